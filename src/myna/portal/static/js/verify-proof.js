// やりとり履歴: checks an entry's inclusion proof in the browser, trusting nothing the
// server says about the result. With Web Crypto only, it checks that
//   (a) the signed tree head's JWS (RFC 7515, ES256) is valid under the log key
//       published at /transparency/keys, and its payload is exactly the canonical JSON
//       of the head's root_hash, timestamp and tree_size;
//   (b) the entry, re-serialised here as canonical JSON, hashes up the inclusion path
//       to that head's root hash (RFC 9162 §2.1.3.2).
// The algorithm is the one in docs/exchange-log.md, "Verifying with your own code".
(function () {
  "use strict";
  var messages = document.getElementById("verify-messages");
  if (!messages) { return; }
  var lang = document.documentElement.lang === "en" ? "en" : "ja";
  var encoder = new TextEncoder();
  var KEY_ID_SHOWN = 16;

  // A check that did not pass; ``kind`` names the message shown for it ("invalid": a
  // malformed value, reported as the failure of the stage it was found in).
  function Failure(kind) { this.kind = kind; }

  function fail(kind) { throw new Failure(kind); }

  function say(status, kind, values) {
    var text = messages.getAttribute("data-" + kind) || "";
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    status.textContent = text;
    var outcome = { ok: " verify-ok", checking: "" }[kind];
    status.className = "verify-status" + (outcome === undefined ? " verify-failed" : outcome);
  }

  // --- Encodings -----------------------------------------------------------------

  // The canonical JSON of docs/exchange-log.md: keys sorted, no whitespace, non-ASCII
  // as itself. For the strings and integers of entries and heads, JSON.stringify
  // writes each value exactly as Python's json.dumps(..., ensure_ascii=False) does.
  function canonical(value) {
    if (Array.isArray(value)) {
      return "[" + value.map(canonical).join(",") + "]";
    }
    if (value !== null && typeof value === "object") {
      return "{" + Object.keys(value).sort().map(function (name) {
        return JSON.stringify(name) + ":" + canonical(value[name]);
      }).join(",") + "}";
    }
    if (typeof value === "number" && !Number.isSafeInteger(value)) { fail("invalid"); }
    return JSON.stringify(value);
  }

  function bytesOf(binary) {
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }

  // Standard base64 with padding (RFC 4648 §4): the hashes in the documents.
  function fromBase64(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) {
      fail("invalid");
    }
    return bytesOf(window.atob(text));
  }

  // base64url without padding (RFC 4648 §5): the parts of a JWS.
  function fromBase64url(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
      fail("invalid");
    }
    var padded = text.replace(/-/g, "+").replace(/_/g, "/");
    return bytesOf(window.atob(padded + "===".slice((padded.length + 3) % 4)));
  }

  function toBase64url(bytes) {
    var binary = "";
    bytes.forEach(function (b) { binary += String.fromCharCode(b); });
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function concat(parts) {
    var size = parts.reduce(function (n, part) { return n + part.length; }, 0);
    var out = new Uint8Array(size);
    var at = 0;
    parts.forEach(function (part) { out.set(part, at); at += part.length; });
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i += 1) { if (a[i] !== b[i]) { return false; } }
    return true;
  }

  function isIndex(value) { return Number.isSafeInteger(value) && value >= 0; }

  // --- RFC 9162 §2.1.1 hashes -----------------------------------------------------

  async function sha256(bytes) {
    return new Uint8Array(await window.crypto.subtle.digest("SHA-256", bytes));
  }

  function leafHash(data) { return sha256(concat([new Uint8Array([0]), data])); }

  function nodeHash(left, right) { return sha256(concat([new Uint8Array([1]), left, right])); }

  // --- (a) the signed tree head ---------------------------------------------------

  // RFC 7638 thumbprint of an EC public key: what the log's key_id is.
  async function thumbprint(jwk) {
    var members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
    return toBase64url(await sha256(encoder.encode(canonical(members))));
  }

  async function checkTreeHead(head, keySet) {
    if (!head || typeof head.key_id !== "string" || typeof head.signature !== "string") {
      fail("signature");
    }
    var keys = keySet && Array.isArray(keySet.keys) ? keySet.keys : [];
    var jwk = keys.filter(function (k) { return k && k.kid === head.key_id; })[0];
    if (!jwk || jwk.kty !== "EC" || jwk.crv !== "P-256" || (jwk.alg && jwk.alg !== "ES256")) {
      fail("unknown-key");
    }
    if (await thumbprint(jwk) !== head.key_id) { fail("unknown-key"); }

    var parts = head.signature.split(".");
    if (parts.length !== 3) { fail("signature"); }
    var header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(fromBase64url(parts[0])));
    if (!header || header.alg !== "ES256" || header.kid !== head.key_id) { fail("signature"); }
    var key = await window.crypto.subtle.importKey(
      "jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
      { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]
    );
    // An ES256 JWS signature is R || S, 32 bytes each (RFC 7518 §3.4): Web Crypto's form.
    var signature = fromBase64url(parts[2]);
    var valid = signature.length === 64 && await window.crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" }, key, signature,
      encoder.encode(parts[0] + "." + parts[1])
    );
    if (!valid) { fail("signature"); }
    var expected = encoder.encode(canonical({
      root_hash: head.root_hash, timestamp: head.timestamp, tree_size: head.tree_size
    }));
    if (!equal(fromBase64url(parts[1]), expected)) { fail("signature"); }
    if (!isIndex(head.tree_size) || !isIndex(head.timestamp)) { fail("signature"); }
  }

  // --- (b) the entry is in that tree (RFC 9162 §2.1.3.2) --------------------------

  async function checkInclusion(entry, proof, head) {
    if (!entry || typeof entry !== "object" || !proof || !Array.isArray(proof.inclusion_path)) {
      fail("inclusion");
    }
    var fn = proof.leaf_index;
    var sn = proof.tree_size - 1;
    if (!isIndex(fn) || entry.index !== fn || proof.tree_size !== head.tree_size || fn > sn) {
      fail("inclusion");
    }
    var r = await leafHash(encoder.encode(canonical(entry)));
    for (var i = 0; i < proof.inclusion_path.length; i += 1) {
      var p = fromBase64(proof.inclusion_path[i]);
      if (sn === 0 || p.length !== 32) { fail("inclusion"); }
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        while (fn !== 0 && fn % 2 === 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0 || !equal(r, fromBase64(head.root_hash))) { fail("inclusion"); }
  }

  // --- The page -------------------------------------------------------------------

  async function getJson(url) {
    var response;
    try {
      response = await fetch(url, {
        credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" }
      });
    } catch (error) {
      fail("network");
    }
    if (!response.ok) { fail("network"); }
    try {
      return await response.json();
    } catch (error) {
      fail("network");  // e.g. the login page after the session ended
    }
    return null;
  }

  function formatTime(milliseconds) {
    var locale = lang === "ja" ? "ja-JP-u-ca-japanese" : "en-GB";
    return new Intl.DateTimeFormat(locale, {
      dateStyle: lang === "ja" ? "long" : "medium", timeStyle: "short", timeZone: "Asia/Tokyo"
    }).format(new Date(milliseconds));
  }

  function shortKeyId(head) {
    var id = head && typeof head.key_id === "string" ? head.key_id : "";
    return id.length > KEY_ID_SHOWN ? id.slice(0, KEY_ID_SHOWN) + "…" : id;
  }

  // Runs one stage; anything unexpected in it counts as that stage's check failing.
  async function stage(kind, run) {
    try {
      return await run();
    } catch (error) {
      if (error instanceof Failure && error.kind !== "invalid") { throw error; }
      throw new Failure(kind);
    }
  }

  async function verify(index) {
    var documents = await Promise.all([
      getJson("/exchanges/" + encodeURIComponent(index) + "/proof.json"),
      getJson("/transparency/keys")
    ]);
    var bundle = documents[0] || {};
    var head = bundle.tree_head;
    var values = { key: shortKeyId(head), size: "", time: "" };
    try {
      await stage("signature", function () { return checkTreeHead(head, documents[1]); });
      values.size = head.tree_size;
      values.time = formatTime(head.timestamp);
      await stage("inclusion", function () {
        return checkInclusion(bundle.entry, bundle.inclusion_proof, head);
      });
    } catch (error) {
      error.values = values;
      throw error;
    }
    return values;
  }

  document.querySelectorAll("button[data-verify-index]").forEach(function (button) {
    var status = document.getElementById(button.getAttribute("aria-controls"));
    if (!status) { return; }
    var busy = false;
    button.hidden = false;
    button.addEventListener("click", function () {
      if (busy) { return; }
      if (!window.crypto || !window.crypto.subtle || !window.TextEncoder) {
        say(status, "unsupported");
        return;
      }
      busy = true;
      say(status, "checking");
      verify(button.getAttribute("data-verify-index")).then(function (values) {
        say(status, "ok", values);
      }, function (error) {
        say(status, error instanceof Failure ? error.kind : "network", error.values || {});
      }).then(function () { busy = false; });
    });
  });
}());
