"""`myna bench crypto`: every algorithm measured, with the sizes FIPS 204 and RFC 8017 fix."""

from __future__ import annotations

from rich.console import Console

from myna.bench import crypto


def test_the_algorithms_are_measured_side_by_side_with_their_real_sizes() -> None:
    result = crypto.run(console=Console(quiet=True), seconds=0.01)
    rows = {row["name"]: row for row in result.details["algorithms"]}  # type: ignore[attr-defined]
    assert set(rows) == {a.name for a in crypto.ALGORITHMS}
    # Signature sizes: RSA's is the modulus; ML-DSA's are fixed by FIPS 204 (Table 2);
    # a DER ECDSA P-256 signature is 70 to 72 bytes.
    assert rows["RSA-2048 (PKCS#1 v1.5, SHA-256)"]["signature_bytes"] == 256
    assert 70 <= rows["ECDSA P-256 (ES256)"]["signature_bytes"] <= 72
    fips204 = {"ML-DSA-44": (2420, 1312), "ML-DSA-65": (3309, 1952), "ML-DSA-87": (4627, 2592)}
    for name, (signature, public_key) in fips204.items():
        assert rows[name]["signature_bytes"] == signature
        # The SubjectPublicKeyInfo wraps the raw key in 22 bytes of DER.
        assert rows[name]["public_key_bytes"] == public_key + 22
        assert rows[name]["certificate_bytes"] > signature + public_key
    for row in rows.values():
        assert row["sign_per_s"] > 0
        assert row["verify_per_s"] > 0
        assert row["sign_cpu_ms"] > 0
        assert row["verify_cpu_ms"] > 0
    assert result.baseline_rate_per_s == rows["ECDSA P-256 (ES256)"]["verify_per_s"]
    assert result.rate_per_s == rows["ML-DSA-65"]["verify_per_s"]


def test_an_algorithm_that_verifies_anything_is_refused() -> None:
    lax = crypto.Algorithm(
        "lax",
        crypto.ALGORITHMS[1].generate,
        crypto.ALGORITHMS[1].sign,
        lambda _key, _signature, _data: None,  # accepts every signature
        crypto.ALGORITHMS[1].certificate_hash,
    )
    try:
        crypto.measure(lax, 0.01)
    except AssertionError as refused:
        assert "verified a signature over another message" in str(refused)
    else:
        raise AssertionError("a lax verifier was measured")


def test_the_hub_message_is_measured_classic_and_hybrid_with_both_hierarchies() -> None:
    measured = crypto.measure_messages(0.01)
    classic, hybrid = measured["messages"]["classic"], measured["messages"]["hybrid"]
    # The hybrid message carries an ML-DSA-65 signature and certificate more.
    assert hybrid["message_bytes"] > classic["message_bytes"] + 3309 + 5000
    assert classic["sign_verify_per_s"] > 0
    assert hybrid["sign_verify_per_s"] > 0
    rsa_pki, pq_pki = measured["jpki"]["rsa"], measured["jpki"]["ml-dsa-65"]
    # An ML-DSA-65 CRL carries a 3,309-byte signature where RSA's is 256 bytes (the
    # algorithm identifiers and DER lengths differ by a few bytes).
    assert 3309 - 256 - 16 <= pq_pki["crl_empty"] - rsa_pki["crl_empty"] <= 3309 - 256 + 16
    assert pq_pki["organization_certificate"] > rsa_pki["organization_certificate"] + 3309
