//! A small XML 1.0 well-formedness checker and tree, enough to read the JUnit
//! file back the way a CI consumer's parser would: one root element after an
//! optional `<?xml ...?>` declaration, matched tags, quoted attributes without
//! `<` and without duplicates, only the five predefined entities and
//! character references, no control characters. Comments, CDATA and DOCTYPE
//! are rejected (compare writes none).

/// An element with its attributes (unescaped), child elements and text.
#[derive(Debug)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The attribute `name` as a count; panics when absent or not a number.
    pub fn count(&self, name: &str) -> usize {
        let v = self
            .attr(name)
            .unwrap_or_else(|| panic!("<{}> has no {name}", self.name));
        v.parse()
            .unwrap_or_else(|_| panic!("<{}> {name}={v:?}", self.name))
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.')
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }

    fn err(&self, msg: &str) -> String {
        let at: String = self.rest().chars().take(30).collect();
        format!("{msg} at byte {} ({at:?})", self.i)
    }

    fn skip_ws(&mut self) {
        let n = self.rest().len() - self.rest().trim_start().len();
        self.i += n;
    }

    fn eat(&mut self, token: &str) -> bool {
        let ok = self.rest().starts_with(token);
        if ok {
            self.i += token.len();
        }
        ok
    }

    fn name(&mut self) -> Result<String, String> {
        let n: usize = self
            .rest()
            .chars()
            .take_while(|&c| is_name_char(c))
            .map(char::len_utf8)
            .sum();
        if n == 0
            || self
                .rest()
                .starts_with(|c: char| c.is_ascii_digit() || c == '-')
        {
            return Err(self.err("expected a name"));
        }
        self.i += n;
        Ok(self.s[self.i - n..self.i].to_owned())
    }

    /// Unescapes `raw`; errors on a bare `&`, an unknown entity or a
    /// character XML 1.0 forbids.
    fn unescape(&self, raw: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = raw;
        while let Some(p) = rest.find(['&']) {
            out.push_str(&rest[..p]);
            let end = rest[p..]
                .find(';')
                .ok_or_else(|| self.err(&format!("bare '&' in {raw:?}")))?;
            let entity = &rest[p + 1..p + end];
            out.push(match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(hex) = entity.strip_prefix("#x") {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(dec) = entity.strip_prefix('#') {
                        dec.parse().ok()
                    } else {
                        None
                    };
                    code.and_then(char::from_u32)
                        .ok_or_else(|| self.err(&format!("unknown entity &{entity};")))?
                }
            });
            rest = &rest[p + end + 1..];
        }
        out.push_str(rest);
        if let Some(c) = raw
            .chars()
            .find(|&c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(self.err(&format!("control character {:?}", c)));
        }
        Ok(out)
    }

    fn element(&mut self) -> Result<Element, String> {
        if !self.eat("<") {
            return Err(self.err("expected '<'"));
        }
        let name = self.name()?;
        let mut attrs: Vec<(String, String)> = Vec::new();
        loop {
            let had_ws = self.rest().starts_with(char::is_whitespace);
            self.skip_ws();
            if self.eat("/>") {
                return Ok(Element {
                    name,
                    attrs,
                    children: Vec::new(),
                    text: String::new(),
                });
            }
            if self.eat(">") {
                break;
            }
            if !had_ws {
                return Err(self.err("expected whitespace before an attribute"));
            }
            let attr = self.name()?;
            self.skip_ws();
            if !self.eat("=") {
                return Err(self.err("expected '='"));
            }
            self.skip_ws();
            let quote = self
                .rest()
                .chars()
                .next()
                .filter(|&q| q == '"' || q == '\'')
                .ok_or_else(|| self.err("expected a quoted value"))?;
            self.i += 1;
            let end = self
                .rest()
                .find(quote)
                .ok_or_else(|| self.err("unterminated value"))?;
            let raw = &self.rest()[..end];
            if raw.contains('<') {
                return Err(self.err("'<' in an attribute value"));
            }
            let value = self.unescape(raw)?;
            self.i += end + 1;
            if attrs.iter().any(|(n, _)| *n == attr) {
                return Err(self.err(&format!("duplicate attribute {attr}")));
            }
            attrs.push((attr, value));
        }
        let (mut children, mut text) = (Vec::new(), String::new());
        loop {
            let p = self
                .rest()
                .find('<')
                .ok_or_else(|| self.err(&format!("<{name}> not closed")))?;
            let raw = self.rest()[..p].to_owned();
            text.push_str(&self.unescape(&raw)?);
            self.i += p;
            if self.eat("</") {
                let close = self.name()?;
                self.skip_ws();
                if close != name || !self.eat(">") {
                    return Err(self.err(&format!("</{close}> closes <{name}>")));
                }
                return Ok(Element {
                    name,
                    attrs,
                    children,
                    text,
                });
            }
            if self.rest().starts_with("<!") || self.rest().starts_with("<?") {
                return Err(self.err("comment, CDATA or processing instruction"));
            }
            children.push(self.element()?);
        }
    }
}

/// Parses a whole document into its root element.
pub fn parse(doc: &str) -> Result<Element, String> {
    let mut p = Parser { s: doc, i: 0 };
    if p.eat("<?xml") {
        let end = p
            .rest()
            .find("?>")
            .ok_or_else(|| p.err("unterminated declaration"))?;
        p.i += end + 2;
    }
    p.skip_ws();
    let root = p.element()?;
    p.skip_ws();
    if !p.rest().is_empty() {
        return Err(p.err("content after the root element"));
    }
    Ok(root)
}

#[test]
fn the_checker_rejects_malformed_xml() {
    let good = parse("<?xml version=\"1.0\"?>\n<a x=\"1 &amp; &lt;2&gt; &quot;q&quot; &#10;\"><b y='&apos;'/>t&amp;u</a>\n")
        .unwrap();
    assert_eq!(good.attr("x"), Some("1 & <2> \"q\" \n"));
    assert_eq!(good.children[0].attr("y"), Some("'"));
    assert_eq!(good.text, "t&u");
    for bad in [
        "<a x=\"<\"/>",
        "<a x=\"a & b\"/>",
        "<a>a & b</a>",
        "<a>&nbsp;</a>",
        "<a x=\"1\" x=\"2\"/>",
        "<a x=1/>",
        "<a x=\"1\"y=\"2\"/>",
        "<a x=\"fgsm(eps=\"0.1\")\"/>",
        "<a><b></a></b>",
        "<a>",
        "<a/><b/>",
        "<a>\u{1}</a>",
        "<a><!-- c --></a>",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
}
