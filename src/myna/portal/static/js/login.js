// Polls the login status and completes the login once the card has answered.
(function () {
  "use strict";
  var root = document.getElementById("login");
  if (!root) { return; }
  var challenge = root.getAttribute("data-challenge");
  var status = document.getElementById("login-status");
  var messages = document.getElementById("login-messages");
  var form = document.getElementById("login-complete");
  var done = false;

  function say(key) { status.textContent = messages.getAttribute("data-" + key); }

  function poll() {
    if (done) { return; }
    fetch("/login/status/" + encodeURIComponent(challenge), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return [response.status, body]; });
    }).then(function (pair) {
      var body = pair[1];
      if (body.status === "verified") {
        done = true; say("verified"); form.submit();
      } else if (body.status === "pending") {
        window.setTimeout(poll, 1000);
      } else if (body.error === "challenge_expired") {
        done = true; say("expired");
      } else {
        done = true; say("failed");
      }
    }).catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 1000);
}());
