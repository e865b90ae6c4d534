// Suggest the browser's own time zone on the account page when none is set. The form works the same
// without this script: the server's default (Europe/London) is selected.
(function () {
  var s = document.getElementById('f-time_zone');
  if (!s || s.dataset.current) return;
  var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (tz && s.querySelector('option[value="' + tz + '"]')) {
    s.value = tz;
    var n = document.getElementById('tz-suggest');
    n.textContent = 'Suggested from your browser: ' + tz + '. Save to keep it.';
    n.hidden = false;
  }
})();
