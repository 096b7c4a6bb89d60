// Progressive enhancement only: every page works without this file.
// Copy buttons are hidden until a script can make them work.
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  button.hidden = false;
});
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    button.textContent = "Copied";
  });
});
// Ask before destructive actions (revoking a key, suspending a partner).
document.addEventListener("submit", function (event) {
  var danger = event.target.querySelector("button.danger");
  if (danger && event.target.hasAttribute("data-confirm") && !window.confirm(event.target.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
