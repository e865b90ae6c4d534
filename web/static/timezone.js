// The browser's time zone, as a suggestion: filled into the registration form's hidden field, and
// preselected on the account page when none is set. Without this script the server's default
// (Europe/London) applies and the account page lets anyone choose.
(function () {
  var tz;
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!tz) return;
  var hidden = document.getElementById('browser-time-zone');
  if (hidden) hidden.value = tz;
  var s = document.getElementById('f-time_zone');
  if (!s || s.dataset.current || !s.querySelector('option[value="' + tz + '"]')) return;
  s.value = tz;
  var n = document.getElementById('tz-suggest');
  n.textContent = 'Suggested from your browser: ' + tz + '. Save to keep it.';
  n.hidden = false;
})();
