// A detached CMS SignedData (RFC 5652 §5) around a WebCrypto RSASSA-PKCS1-v1_5 signature:
// the same structure the card produces (myna.card.cms) and the portal verifies
// (myna.jpki.cms). WebCrypto signs bytes but has no CMS, so the DER is written here:
// SHA-256, signed attributes content-type, signing-time and message-digest (which sort
// in that order as DER SET OF, X.690 §11.6), the signer by issuer and serial number,
// its certificate included. See docs/phone-credential.md.
(function (global) {
  "use strict";

  function concat(parts) {
    var length = 0, i;
    for (i = 0; i < parts.length; i++) { length += parts[i].length; }
    var out = new Uint8Array(length), at = 0;
    for (i = 0; i < parts.length; i++) { out.set(parts[i], at); at += parts[i].length; }
    return out;
  }

  function tlv(tag, content) {
    var n = content.length, head;
    if (n < 0x80) { head = [tag, n]; }
    else if (n < 0x100) { head = [tag, 0x81, n]; }
    else if (n < 0x10000) { head = [tag, 0x82, n >> 8, n & 0xff]; }
    else { head = [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]; }
    return concat([new Uint8Array(head), content]);
  }

  function seq() { return tlv(0x30, concat(Array.prototype.slice.call(arguments))); }
  function set() { return tlv(0x31, concat(Array.prototype.slice.call(arguments))); }
  function oid(hex) { return tlv(0x06, fromHex(hex)); }
  function fromHex(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(hex.substr(i * 2, 2), 16); }
    return out;
  }
  var NULL = new Uint8Array([0x05, 0x00]);
  var OID = {
    data: "2a864886f70d010701",           // 1.2.840.113549.1.7.1
    signedData: "2a864886f70d010702",     // 1.2.840.113549.1.7.2
    contentType: "2a864886f70d010903",    // 1.2.840.113549.1.9.3
    messageDigest: "2a864886f70d010904",  // 1.2.840.113549.1.9.4
    signingTime: "2a864886f70d010905",    // 1.2.840.113549.1.9.5
    sha256: "608648016503040201",         // 2.16.840.1.101.3.4.2.1
    rsaEncryption: "2a864886f70d010101"   // 1.2.840.113549.1.1.1
  };

  // One DER element at ``at``: [tag, start of content, end of content].
  function element(der, at) {
    var tag = der[at], n = der[at + 1], start = at + 2;
    if (n & 0x80) {
      var count = n & 0x7f; n = 0;
      for (var i = 0; i < count; i++) { n = (n << 8) | der[start + i]; }
      start += count;
    }
    return [tag, start, start + n];
  }

  // The issuer Name and serial INTEGER of a certificate, as DER (RFC 5280 §4.1).
  function issuerAndSerial(certificate) {
    var cert = element(certificate, 0);
    var tbs = element(certificate, cert[1]);
    var at = tbs[1];
    var next = element(certificate, at);
    if (next[0] === 0xa0) { at = next[2]; next = element(certificate, at); }  // version
    var serial = certificate.slice(at, next[2]);
    at = next[2];
    at = element(certificate, at)[2];  // signature AlgorithmIdentifier
    var issuer = element(certificate, at);
    return seq(certificate.slice(at, issuer[2]), serial);
  }

  function utcTime(date) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    var text = two(date.getUTCFullYear() % 100) + two(date.getUTCMonth() + 1) +
      two(date.getUTCDate()) + two(date.getUTCHours()) + two(date.getUTCMinutes()) +
      two(date.getUTCSeconds()) + "Z";
    return tlv(0x17, new TextEncoder().encode(text));
  }

  // ``sign`` takes the DER of the signed attributes and resolves to the PKCS#1 signature.
  function detachedSignedData(content, certificate, sign) {
    return crypto.subtle.digest("SHA-256", content).then(function (digest) {
      var attributes = concat([
        seq(oid(OID.contentType), set(oid(OID.data))),
        seq(oid(OID.signingTime), set(utcTime(new Date()))),
        seq(oid(OID.messageDigest), set(tlv(0x04, new Uint8Array(digest))))
      ]);
      var signedAttributes = tlv(0x31, attributes);
      return sign(signedAttributes).then(function (signature) {
        var sha256 = seq(oid(OID.sha256), NULL);
        var signerInfo = seq(
          tlv(0x02, new Uint8Array([1])),
          issuerAndSerial(certificate),
          sha256,
          tlv(0xa0, attributes),
          seq(oid(OID.rsaEncryption), NULL),
          tlv(0x04, new Uint8Array(signature))
        );
        var signedData = seq(
          tlv(0x02, new Uint8Array([1])),
          set(sha256),
          seq(oid(OID.data)),
          tlv(0xa0, certificate),
          set(signerInfo)
        );
        return seq(oid(OID.signedData), tlv(0xa0, signedData));
      });
    });
  }

  global.MynaCms = { detachedSignedData: detachedSignedData };
})(window);
