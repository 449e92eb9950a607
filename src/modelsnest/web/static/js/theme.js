/* Loaded blocking in <head>: sets the theme before the first paint, so there is no flash.
   An explicit choice (the toggle) is remembered; otherwise the system preference applies. */
(function () {
  var KEY = "modelsnest-theme";
  function system() {
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  var theme = null;
  try { theme = localStorage.getItem(KEY); } catch (e) { /* storage blocked */ }
  if (theme !== "light" && theme !== "dark") theme = system();
  document.documentElement.setAttribute("data-theme", theme);
})();
