// Polls a card login challenge (docs/card-login.md) and goes on once the card has
// answered: the page's form is sent, so the server completes the login; without a form
// the page reloads to show what the card proved. With data-on-failure="continue" a
// refused answer goes on the same way, so the server says why. Used by the portal's
// login, the back office's card login and its staff card registration.
(function () {
  "use strict";
  var root = document.getElementById("card-challenge");
  if (!root) { return; }
  var url = root.getAttribute("data-status-url");
  var continueOnFailure = root.getAttribute("data-on-failure") === "continue";
  var status = document.getElementById("challenge-status");
  var messages = document.getElementById("challenge-messages");
  var form = document.getElementById("challenge-complete");
  var done = false;

  function say(key) { status.textContent = messages.getAttribute("data-" + key); }

  function goOn() {
    if (form) { form.submit(); } else { window.location.reload(); }
  }

  function poll() {
    if (done) { return; }
    fetch(url, {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json();
    }).then(function (body) {
      if (body.status === "verified") {
        done = true; say("verified"); goOn();
      } else if (body.status === "pending") {
        window.setTimeout(poll, 1000);
      } else if (body.error === "challenge_expired") {
        done = true; say("expired");
      } else if (body.status === "failed" && continueOnFailure) {
        done = true; goOn();
      } else {
        done = true; say("failed");
      }
    }).catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 1000);
}());
