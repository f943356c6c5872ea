// Polls a signing request and opens its receipt page once the card has signed; stops and
// shows the portal's message when the signature cannot come (a revoked or expired
// signing certificate).
(function () {
  "use strict";
  var root = document.getElementById("signing");
  if (!root || root.hidden) { return; }
  var id = root.getAttribute("data-request");
  var status = document.getElementById("signing-status");
  var messages = document.getElementById("signing-messages");
  var failure = document.getElementById("signing-error");
  var failureText = document.getElementById("signing-error-message");
  var done = false;

  function say(key) { status.textContent = messages.getAttribute("data-" + key); }

  function fail(message) {
    done = true;
    failureText.textContent = message;
    failure.hidden = false;
    root.hidden = true;
    failure.setAttribute("tabindex", "-1");
    failure.focus();
  }

  function poll() {
    if (done) { return; }
    fetch("/apply/sign/" + encodeURIComponent(id) + "/status", {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) { return response.json(); }).then(function (body) {
      if (body.state === "signed") {
        done = true; say("signed");
        // The portal names the page of the signed document (a path on this site).
        var path = String(body.done_url || "/");
        window.location.assign(/^\/(?![\/\\])/.test(path) ? path : "/");
      } else if (body.state === "expired") {
        done = true; say("expired");
      } else if (body.state === "error") {
        fail(body.message);
      } else {
        window.setTimeout(poll, 1000);
      }
    }).catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 1000);
}());
