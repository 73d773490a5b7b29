window.addEventListener('load', function () {
  var errors = window.__reportErrors;
  var body = document.body;
  var finished = false;
  function done(decoded) {
    if (finished) { return; }
    finished = true;
    var svgs = document.querySelectorAll('figure > svg');
    var expected = Number(body.getAttribute('data-expected-plots'));
    if (svgs.length !== expected) {
      errors.push('expected ' + expected + ' plots, found ' + svgs.length);
    }
    var wantImages = Number(body.getAttribute('data-expected-images'));
    if (decoded !== wantImages) {
      errors.push('expected ' + wantImages + ' images to decode, ' + decoded + ' did');
    }
    body.setAttribute('data-report-plots', String(svgs.length));
    body.setAttribute('data-report-images', String(decoded));
    body.setAttribute('data-report-height', String(document.documentElement.scrollHeight));
    if (errors.length) {
      body.setAttribute('data-report-ok', '0');
      body.setAttribute('data-report-errors', errors.join(' | '));
      var banner = document.createElement('div');
      banner.className = 'report-errors';
      banner.textContent = 'Report check failed: ' + errors.join(' | ');
      body.insertBefore(banner, body.firstChild);
    } else {
      body.setAttribute('data-report-ok', '1');
    }
  }
  document.querySelectorAll('[src], [href]').forEach(function (el) {
    var v = el.getAttribute('src') || el.getAttribute('href') || '';
    if (v.indexOf('data:') !== 0 && v.charAt(0) !== '#') {
      errors.push('reference outside the page: ' + v.slice(0, 80));
    }
  });
  document.querySelectorAll('figure > svg').forEach(function (svg, i) {
    var box = svg.getBoundingClientRect();
    if (!svg.firstElementChild || box.width < 10 || box.height < 10) {
      errors.push('plot ' + (i + 1) + ' is empty or has no size');
    } else if (!svg.querySelector('text')) {
      errors.push('plot ' + (i + 1) + ' has no text');
    }
  });
  var images = Array.prototype.slice.call(document.querySelectorAll('img, image'));
  var pending = images.length;
  var decoded = 0;
  if (pending === 0) { done(0); return; }
  setTimeout(function () {
    if (!finished) { errors.push(pending + ' image(s) never loaded'); done(decoded); }
  }, 5000);
  images.forEach(function (el, i) {
    var src = el.getAttribute('src') || el.getAttribute('href') ||
      el.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
    function settle() { pending -= 1; if (pending === 0) { done(decoded); } }
    if (!src) { errors.push('image ' + (i + 1) + ' has no source'); settle(); return; }
    var probe = new Image();
    probe.onload = function () {
      if (probe.naturalWidth > 0 && probe.naturalHeight > 0) { decoded += 1; }
      else { errors.push('image ' + (i + 1) + ' is empty'); }
      settle();
    };
    probe.onerror = function () { errors.push('image ' + (i + 1) + ' does not decode'); settle(); };
    probe.src = src;
  });
});
