//! A minimal `{{name}}` filler for the HTML report's template files
//! (`templates/`, see [`super::html`]).
//!
//! No template engine: the page is one skeleton with a dozen slots, and what
//! matters is that every value taken from a run (suite name, run id) is
//! escaped. Here the kind of a [`Slot`] says whether it is: [`Slot::Text`] is
//! escaped exactly as the page's text always was ([`super::xml_escape`]),
//! [`Slot::Markup`] is markup this crate built or a template file of its own.
//! The template is scanned once, left to right, and a value is never scanned
//! for placeholders, so a suite named `{{main}}` stays text.

use super::xml_escape;

/// A value for one `{{name}}` placeholder.
pub(crate) enum Slot<'a> {
    /// Text from a run: escaped for HTML content and attribute values.
    Text(&'a str),
    /// Markup built by the report, or a CSS or script file of `templates/`:
    /// inserted as it is.
    Markup(&'a str),
}

/// `template` with each `{{name}}` replaced by the slot of that name.
///
/// # Panics
///
/// When the template names a slot not given, or leaves `{{` unclosed. The
/// templates are compiled in (`include_str!`), so any test that renders a
/// page finds such a mistake; in debug builds, a slot the template does not
/// name panics too.
pub(crate) fn fill(template: &str, slots: &[(&str, Slot<'_>)]) -> String {
    debug_assert!(
        slots
            .iter()
            .all(|(name, _)| template.contains(&format!("{{{{{name}}}}}"))),
        "a slot the template does not use"
    );
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .expect("every `{{` of a report template is closed");
        let name = &after[..end];
        let slot = slots
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s)
            .unwrap_or_else(|| panic!("no value for {{{{{name}}}}} in a report template"));
        match slot {
            Slot::Text(text) => out.push_str(&xml_escape(text)),
            Slot::Markup(markup) => out.push_str(markup),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{fill, Slot};

    #[test]
    fn text_is_escaped_markup_is_not_and_values_are_not_rescanned() {
        let page = fill(
            "<p title=\"{{t}}\">{{t}}</p>{{m}}",
            &[
                ("t", Slot::Text("a<b & \"{{m}}\"")),
                ("m", Slot::Markup("<br>{{t}}")),
            ],
        );
        assert_eq!(
            page,
            "<p title=\"a&lt;b &amp; &quot;{{m}}&quot;\">a&lt;b &amp; &quot;{{m}}&quot;</p><br>{{t}}"
        );
    }

    #[test]
    #[should_panic(expected = "no value for {{x}}")]
    fn an_unknown_slot_panics() {
        fill("{{x}}", &[]);
    }
}
