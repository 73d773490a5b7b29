window.__reportErrors = [];
window.addEventListener('error', function (e) {
  var what = e.message || (e.target && e.target.tagName ? 'failed to load ' + e.target.tagName : 'error');
  window.__reportErrors.push(what);
}, true);
(function () {
  var original = console.error;
  console.error = function () {
    window.__reportErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
})();
