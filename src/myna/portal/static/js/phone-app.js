// The stand-in phone app (docs/phone-credential.md): keys made and kept on the device
// (WebCrypto, non-extractable, IndexedDB), unlocked for each use by WebAuthn user
// verification. The page says which step it runs (data-page on #phone-app); its texts
// come from the page (#phone-messages), so they follow the page's language.
(function () {
  "use strict";
  var root = document.getElementById("phone-app");
  if (!root) { return; }
  var status = document.getElementById("phone-status");
  var messages = document.getElementById("phone-messages");
  var STORE = "credential";
  var ALGORITHM = {
    name: "RSASSA-PKCS1-v1_5", modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256"
  };

  function say(key, detail) {
    var text = messages.getAttribute("data-" + key) || key;
    status.textContent = detail ? text + " " + detail : text;
  }

  function b64url(bytes) {
    var data = new Uint8Array(bytes), text = "";
    for (var i = 0; i < data.length; i++) { text += String.fromCharCode(data[i]); }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function unb64url(text) {
    var b = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    var out = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) { out[i] = b.charCodeAt(i); }
    return out;
  }
  function utf8(text) { return new TextEncoder().encode(text); }

  function api(method, url, body) {
    var init = {
      method: method, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) { var e = new Error(json.message || response.status); e.body = json; throw e; }
        return json;
      });
    });
  }

  // --- the device's store ---------------------------------------------------------
  function db() {
    return new Promise(function (resolve, reject) {
      var open = indexedDB.open("myna-phone", 1);
      open.onupgradeneeded = function () { open.result.createObjectStore(STORE); };
      open.onsuccess = function () { resolve(open.result); };
      open.onerror = function () { reject(open.error); };
    });
  }
  function put(value) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction(STORE, "readwrite");
        tx.objectStore(STORE).put(value, "current");
        tx.oncomplete = function () { resolve(value); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function load() {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var get = d.transaction(STORE).objectStore(STORE).get("current");
        get.onsuccess = function () { resolve(get.result || null); };
        get.onerror = function () { reject(get.error); };
      });
    });
  }
  function forget() {
    return db().then(function (d) {
      return new Promise(function (resolve) {
        var tx = d.transaction(STORE, "readwrite");
        tx.objectStore(STORE).delete("current");
        tx.oncomplete = function () { resolve(); };
      });
    });
  }

  function pkcs1(key, bytes) { return crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, bytes); }

  // The unlock: WebAuthn with user verification over SHA-256("myna-phone-unlock-v1\n" + data).
  function unlock(stored, toBeSigned) {
    var prefix = utf8("myna-phone-unlock-v1\n");
    var joined = new Uint8Array(prefix.length + toBeSigned.length);
    joined.set(prefix); joined.set(toBeSigned, prefix.length);
    return crypto.subtle.digest("SHA-256", joined).then(function (challenge) {
      say("unlocking");
      return navigator.credentials.get({ publicKey: {
        challenge: challenge, userVerification: "required", timeout: 60000,
        allowCredentials: [{ type: "public-key", id: unb64url(stored.unlockId) }]
      } });
    }).then(function (assertion) {
      var r = assertion.response;
      return {
        credential_id: b64url(assertion.rawId),
        client_data_json: b64url(r.clientDataJSON),
        authenticator_data: b64url(r.authenticatorData),
        signature: b64url(r.signature),
        user_handle: r.userHandle ? b64url(r.userHandle) : null
      };
    });
  }

  function fail(error) {
    say("failed", error && error.body ? error.body.message : "");
  }

  // --- issuance ---------------------------------------------------------------------
  function issue() {
    var started, keys = {}, request;
    say("starting");
    api("POST", "/api/phone/issuances").then(function (body) {
      started = body;
      return Promise.all(["sign", "auth"].map(function (kind) {
        return crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]).then(function (pair) {
          keys[kind] = pair;
          return Promise.all([
            crypto.subtle.exportKey("spki", pair.publicKey),
            pkcs1(pair.privateKey, unb64url(started.possession[kind]))
          ]).then(function (done) { keys[kind].spki = done[0]; keys[kind].proof = done[1]; });
        });
      }));
    }).then(function () {
      say("registering");
      var options = started.registration;
      options.challenge = unb64url(options.challenge);
      options.user.id = unb64url(options.user.id);
      (options.excludeCredentials || []).forEach(function (c) { c.id = unb64url(c.id); });
      return navigator.credentials.create({ publicKey: options });
    }).then(function (credential) {
      keys.unlockId = b64url(credential.rawId);
      return api("POST", "/api/phone/issuances/" + started.issuance_id + "/keys", {
        sign_public_key: b64url(keys.sign.spki), sign_proof: b64url(keys.sign.proof),
        auth_public_key: b64url(keys.auth.spki), auth_proof: b64url(keys.auth.proof),
        registration: {
          credential_id: keys.unlockId,
          client_data_json: b64url(credential.response.clientDataJSON),
          attestation_object: b64url(credential.response.attestationObject)
        }
      });
    }).then(function (signing) {
      request = signing;
      var link = document.getElementById("card-step");
      link.href = signing.reader_link;
      link.hidden = false;
      say("card");
      return waitIssued(started.issuance_id);
    }).then(function (issued) {
      return put({
        issuanceId: started.issuance_id, unlockId: keys.unlockId,
        signKey: keys.sign.privateKey, authKey: keys.auth.privateKey,
        signCertificate: issued.sign_certificate, authCertificate: issued.auth_certificate
      });
    }).then(function () {
      document.getElementById("card-step").hidden = true;
      say("issued");
    }).catch(fail);
    return request;
  }

  function waitIssued(id) {
    return new Promise(function (resolve, reject) {
      function poll() {
        api("GET", "/api/phone/issuances/" + id).then(function (body) {
          if (body.status === "active") { resolve(body); }
          else if (body.status === "pending") { window.setTimeout(poll, 1500); }
          else { reject(new Error(body.status)); }
        }, reject);
      }
      poll();
    });
  }

  // --- login ------------------------------------------------------------------------
  function loginMessage(challenge) {
    return utf8(["myna-card-login-v1", challenge.origin, challenge.challenge_id, challenge.nonce].join("\n"));
  }

  function answerChallenge(stored, challenge, url) {
    var message = loginMessage(challenge);
    if (challenge.origin !== window.location.origin ||
        b64url(message) !== challenge.to_be_signed) {
      throw new Error("origin");
    }
    return Promise.all([pkcs1(stored.authKey, message), unlock(stored, message)])
      .then(function (done) {
        return api("POST", url, {
          certificate: stored.authCertificate, signature: b64url(done[0]), unlock: done[1]
        });
      });
  }

  function login(stored) {
    var requestUri = root.getAttribute("data-request-uri");
    var read = requestUri ? api("GET", requestUri) : api("POST", "/api/login/challenges");
    read.then(function (challenge) {
      var url = "/api/login/challenges/" + challenge.challenge_id + "/response";
      return answerChallenge(stored, challenge, url);
    }).then(function (body) {
      if (body.status === "logged_in") { window.location.assign("/home"); }
      else { say("verified"); }
    }).catch(fail);
  }

  function revoke(stored) {
    api("POST", "/api/login/challenges").then(function (challenge) {
      var message = loginMessage(challenge);
      return Promise.all([pkcs1(stored.authKey, message), unlock(stored, message)])
        .then(function (done) {
          return api("POST", "/api/phone/revocations", {
            challenge_id: challenge.challenge_id, certificate: stored.authCertificate,
            signature: b64url(done[0]), unlock: done[1]
          });
        });
    }).then(forget).then(function () { say("revoked"); }).catch(fail);
  }

  // --- signing ----------------------------------------------------------------------
  function sign(stored) {
    var requestUri = root.getAttribute("data-request-uri");
    var content;
    api("GET", requestUri).then(function (request) {
      if (request.origin !== window.location.origin) { throw new Error("origin"); }
      content = unb64url(request.to_be_signed);
      document.getElementById("sign-what").textContent =
        request.procedure_name + " (" + request.municipality_name + ")";
      return Promise.all([
        MynaCms.detachedSignedData(content, unb64url(stored.signCertificate), function (bytes) {
          return pkcs1(stored.signKey, bytes);
        }),
        unlock(stored, content)
      ]);
    }).then(function (done) {
      return api("POST", requestUri + "/response", { signature: b64url(done[0]), unlock: done[1] });
    }).then(function (receipt) {
      say("signed", receipt.receipt_number);
    }).catch(fail);
  }

  function withCredential(action) {
    return function () {
      load().then(function (stored) {
        if (!stored) { say("none"); return; }
        action(stored);
      });
    };
  }

  function on(id, handler) {
    var button = document.getElementById(id);
    if (button) { button.addEventListener("click", handler); }
  }

  on("phone-issue", issue);
  on("phone-login", withCredential(login));
  on("phone-sign", withCredential(sign));
  on("phone-revoke", withCredential(revoke));
  load().then(function (stored) { say(stored ? "present" : "none"); });
})();
