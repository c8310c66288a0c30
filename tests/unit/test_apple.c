/* test_apple.c: the Apple provider (doc/providers.md, apple): JWS split, base64url, R||S -> DER, the
 * certificate checks in verify.c, each chain failure, ES256, the notification claims, nested JWSs,
 * the provider vtable, and every apple vector of tests/vectors.json (read via KANCA_SRCDIR).
 *
 * The fixtures below were generated once with Python's cryptography package (keys discarded):
 * P-256 root "TEST kanca Root CA" (2025-01-01..2045-01-01); the same root expiring 2025-12-01
 * (ROOT_EXPIRED); a second root with the same name and another key (ROOT2); intermediates with
 * one name and key (INT: CA:TRUE + OID 1.2.840.113635.100.6.2.1; INT_NOCA: CA:FALSE; INT_NOOID;
 * INT_ROOT2: signed by ROOT2; INT_EXPIRED: until 2025-12-01); leaves with one name and key (LEAF:
 * OID 1.2.840.113635.100.6.11.1, 2025-06-01..2030-01-01; LEAF_NOOID; LEAF_BY_ROOT: issued by the
 * root; LEAF_P384: a P-384 key). Each JWS case is rebuilt here byte for byte (make_header) and
 * carries the signature made over it: ES256 R||S, or DER for "dersig", or ES384 for "p384leaf";
 * nested_cases sign nested_fmt filled with two JWSs built from the cases. */
#include "first.h"
#include "buf.h"
#include "json.h"
#include "outcome.h"
#include "request.h"
#include "store/store.h"
#include "verify.h"
#include "providers/apple.h"
#include "providers/provider.h"
#include "providers/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#define T_NOW		1767225600LL /* 2026-01-01T00:00:00Z */
#define LEAF_NOT_BEFORE 1748736000LL /* 2025-06-01 */
#define LEAF_NOT_AFTER	1893456000LL /* 2030-01-01 */
#define BUNDLE		"com.example.kanca"

struct jws_case {
	const char *name, *alg;
	const char *chain[4];
	int n;
	const char *payload;
	const char *sig;
};

struct nested_case {
	const char *name, *tx, *renewal, *renewal_sig_of, *sig;
};

struct rs_der_case {
	const char *name, *rs_hex, *der_hex;
};

/* ---- fixtures: generated once (Python cryptography, keys discarded); see the comment above ---- */
static const char ROOT[] = "MIIBkTCCATegAwIBAgICIAAwCgYIKoZIzj0EAwIwPzELMAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxGz"
			   "AZBgNVBAMMElRFU1Qga2FuY2EgUm9vdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw00NTAxMDEwMDAwMDBaMD8xCzAJBgNV"
			   "BAYTAlRSMRMwEQYDVQQKDAprYW5jYSB0ZXN0MRswGQYDVQQDDBJURVNUIGthbmNhIFJvb3QgQ0EwWTATBgcqhkjOPQ"
			   "IBBggqhkjOPQMBBwNCAATJLNe+LDDOJdoDXMRY/FF+UfPCdGprb6RjbMgSEovDtqTj1fUZlzvQxarhm5zho/rjuCSR"
			   "yF9wjOZWNpDQV6yBoyMwITAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAi"
			   "EA8Vwt6fWORceiJVocBkjOL4k6eTxZ3615eJTMh5yPFagCIDD3/7ztYOVf4Ixyq5G0ZGJ06d9RCM6I564Atykx2mpl";
static const char ROOT2[] =
    "MIIBkTCCATegAwIBAgICIQAwCgYIKoZIzj0EAwIwPzELMAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxGz"
    "AZBgNVBAMMElRFU1Qga2FuY2EgUm9vdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw00NTAxMDEwMDAwMDBaMD8xCzAJBgNV"
    "BAYTAlRSMRMwEQYDVQQKDAprYW5jYSB0ZXN0MRswGQYDVQQDDBJURVNUIGthbmNhIFJvb3QgQ0EwWTATBgcqhkjOPQ"
    "IBBggqhkjOPQMBBwNCAASp8gKwEjyPpTNvSGjsgUdlHTDdKkif54nKfNj2pq8l6TUPlGKOctu1IagHkFANQI8jI6r+"
    "SZK2qf7jEb4zDI0DoyMwITAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAi"
    "EArcYk757rBU9cwi51XqJEfAsBq7ZplUWEUqTju9TdCVYCIBSCf08z6BOeRksWDgbYbwdKDdjvpqvzeFZB/m/CvUsH";
static const char ROOT_EXPIRED[] =
    "MIIBkTCCATegAwIBAgICIgAwCgYIKoZIzj0EAwIwPzELMAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxGz"
    "AZBgNVBAMMElRFU1Qga2FuY2EgUm9vdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw0yNTEyMDEwMDAwMDBaMD8xCzAJBgNV"
    "BAYTAlRSMRMwEQYDVQQKDAprYW5jYSB0ZXN0MRswGQYDVQQDDBJURVNUIGthbmNhIFJvb3QgQ0EwWTATBgcqhkjOPQ"
    "IBBggqhkjOPQMBBwNCAATJLNe+LDDOJdoDXMRY/FF+UfPCdGprb6RjbMgSEovDtqTj1fUZlzvQxarhm5zho/rjuCSR"
    "yF9wjOZWNpDQV6yBoyMwITAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAi"
    "AKbx3J+7cvao0z27wmWgEgAz0mnjMkwANZJsCqotktQwIhAK76Fmn6MX409gImUhJu/2uP2oOsNABHeF7/Mug03UIa";
static const char INT[] = "MIIBqzCCAVGgAwIBAgICIAEwCgYIKoZIzj0EAwIwPzELMAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxGz"
			  "AZBgNVBAMMElRFU1Qga2FuY2EgUm9vdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw00MDAxMDEwMDAwMDBaMEQxCzAJBgNV"
			  "BAYTAlRSMRMwEQYDVQQKDAprYW5jYSB0ZXN0MSAwHgYDVQQDDBdURVNUIGthbmNhIEludGVybWVkaWF0ZTBZMBMGBy"
			  "qGSM49AgEGCCqGSM49AwEHA0IABCCCBdYWmMERX7XvyKbICJ+QvOmMq8gUmpfCyPTaxlT/9CJK9BNXDu/0aLZMAG5e"
			  "PXqFnbOP2wOndgtNYaZaZmmjODA2MBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEGMBAGCiqGSIb3Y2"
			  "QGAgEEAgUAMAoGCCqGSM49BAMCA0gAMEUCIALYkiROPuIAe4aHhMcHhXukeT4K2d4J06DJU9SjkXTZAiEAgYWdqRIv"
			  "v/ooPonV185UL5RHmCfUwiIOe15CVbF2yLA=";
static const char INT_NOCA[] =
    "MIIBpTCCAUugAwIBAgICIAIwCgYIKoZIzj0EAwIwPzELMAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxGz"
    "AZBgNVBAMMElRFU1Qga2FuY2EgUm9vdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw00MDAxMDEwMDAwMDBaMEQxCzAJBgNV"
    "BAYTAlRSMRMwEQYDVQQKDAprYW5jYSB0ZXN0MSAwHgYDVQQDDBdURVNUIGthbmNhIEludGVybWVkaWF0ZTBZMBMGBy"
    "qGSM49AgEGCCqGSM49AwEHA0IABCCCBdYWmMERX7XvyKbICJ+QvOmMq8gUmpfCyPTaxlT/9CJK9BNXDu/0aLZMAG5e"
    "PXqFnbOP2wOndgtNYaZaZmmjMjAwMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBAGCiqGSIb3Y2QGAgEEAg"
    "UAMAoGCCqGSM49BAMCA0gAMEUCIQDS4tq5GVXUv4jMb0ZO2bhKQvbRVz8ixqUNE1QyysiiyQIgekWbhJ+t3EWnaLSQ"
    "iFAKae5hKh40/xluhbEvUUJ4XMo=";
static const char INT_NOOID[] =
    "MIIBmTCCAT+gAwIBAgICIAMwCgYIKoZIzj0EAwIwPzELMAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxGz"
    "AZBgNVBAMMElRFU1Qga2FuY2EgUm9vdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw00MDAxMDEwMDAwMDBaMEQxCzAJBgNV"
    "BAYTAlRSMRMwEQYDVQQKDAprYW5jYSB0ZXN0MSAwHgYDVQQDDBdURVNUIGthbmNhIEludGVybWVkaWF0ZTBZMBMGBy"
    "qGSM49AgEGCCqGSM49AwEHA0IABCCCBdYWmMERX7XvyKbICJ+QvOmMq8gUmpfCyPTaxlT/9CJK9BNXDu/0aLZMAG5e"
    "PXqFnbOP2wOndgtNYaZaZmmjJjAkMBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BA"
    "MCA0gAMEUCIQDungbIrpfJiCQVscNbQgajaFpGH/9diIKNnsGOZzGH+wIgEzQQCaa3Wxda5+ABbuklSBDfA5GeVfqX"
    "+yMlkqT4+Q8=";
static const char INT_ROOT2[] =
    "MIIBrDCCAVGgAwIBAgICIAQwCgYIKoZIzj0EAwIwPzELMAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxGz"
    "AZBgNVBAMMElRFU1Qga2FuY2EgUm9vdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw00MDAxMDEwMDAwMDBaMEQxCzAJBgNV"
    "BAYTAlRSMRMwEQYDVQQKDAprYW5jYSB0ZXN0MSAwHgYDVQQDDBdURVNUIGthbmNhIEludGVybWVkaWF0ZTBZMBMGBy"
    "qGSM49AgEGCCqGSM49AwEHA0IABCCCBdYWmMERX7XvyKbICJ+QvOmMq8gUmpfCyPTaxlT/9CJK9BNXDu/0aLZMAG5e"
    "PXqFnbOP2wOndgtNYaZaZmmjODA2MBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEGMBAGCiqGSIb3Y2"
    "QGAgEEAgUAMAoGCCqGSM49BAMCA0kAMEYCIQDDK2pfr3b9V9hJNpjfcrlDpl44zxBWsdEY2ZqaKIw/9gIhAJbP2CJD"
    "6deQkTBD6oUAclsEwXsNdAgoJ7dEQE7Z4IiN";
static const char INT_EXPIRED[] =
    "MIIBqzCCAVGgAwIBAgICIAUwCgYIKoZIzj0EAwIwPzELMAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxGz"
    "AZBgNVBAMMElRFU1Qga2FuY2EgUm9vdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw0yNTEyMDEwMDAwMDBaMEQxCzAJBgNV"
    "BAYTAlRSMRMwEQYDVQQKDAprYW5jYSB0ZXN0MSAwHgYDVQQDDBdURVNUIGthbmNhIEludGVybWVkaWF0ZTBZMBMGBy"
    "qGSM49AgEGCCqGSM49AwEHA0IABCCCBdYWmMERX7XvyKbICJ+QvOmMq8gUmpfCyPTaxlT/9CJK9BNXDu/0aLZMAG5e"
    "PXqFnbOP2wOndgtNYaZaZmmjODA2MBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEGMBAGCiqGSIb3Y2"
    "QGAgEEAgUAMAoGCCqGSM49BAMCA0gAMEUCIH/eIFgkn4BMQnG/amicJJX5nlI7LTO56+PpWhccnmsyAiEAnlaTZcuC"
    "+2RUj2lM01sUpJiIuilbHOBLVsFxIvDXMug=";
static const char LEAF[] = "MIIBoTCCAUigAwIBAgICIAYwCgYIKoZIzj0EAwIwRDELMAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxID"
			   "AeBgNVBAMMF1RFU1Qga2FuY2EgSW50ZXJtZWRpYXRlMB4XDTI1MDYwMTAwMDAwMFoXDTMwMDEwMTAwMDAwMFowPDEL"
			   "MAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxGDAWBgNVBAMMD1RFU1Qga2FuY2EgTGVhZjBZMBMGByqGSM"
			   "49AgEGCCqGSM49AwEHA0IABGbLDpalN5nm8zWWjdnqWG2ZeIHb6lFmKqVkatmc7jtuFYTuZyjvvtU7IjDUtFckNjuH"
			   "TmaBbiUM1nkew4y//2GjMjAwMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBAGCiqGSIb3Y2QGCwEEAgUAMA"
			   "oGCCqGSM49BAMCA0cAMEQCIA5ezr7nia2ppejE2G4NOSuL16BZbyeLvxny3jiD0QD8AiBe/RVbiJJaUzM+1ohC/znc"
			   "dMPodtUfAWoGcmeVVLfbfQ==";
static const char LEAF_NOOID[] =
    "MIIBkDCCATagAwIBAgICIAcwCgYIKoZIzj0EAwIwRDELMAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxID"
    "AeBgNVBAMMF1RFU1Qga2FuY2EgSW50ZXJtZWRpYXRlMB4XDTI1MDYwMTAwMDAwMFoXDTMwMDEwMTAwMDAwMFowPDEL"
    "MAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxGDAWBgNVBAMMD1RFU1Qga2FuY2EgTGVhZjBZMBMGByqGSM"
    "49AgEGCCqGSM49AwEHA0IABGbLDpalN5nm8zWWjdnqWG2ZeIHb6lFmKqVkatmc7jtuFYTuZyjvvtU7IjDUtFckNjuH"
    "TmaBbiUM1nkew4y//2GjIDAeMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMAoGCCqGSM49BAMCA0gAMEUCIH"
    "vqz8PFR4E9/Nw3n2cTf/UWOKEikeeqsE2i8ZC8JkOeAiEA3a9lY6AEjJs/UggBSGad6Ek+HhBj0rMe3QHoTYNOjAg=";
static const char LEAF_BY_ROOT[] =
    "MIIBnDCCAUOgAwIBAgICIAgwCgYIKoZIzj0EAwIwPzELMAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxGz"
    "AZBgNVBAMMElRFU1Qga2FuY2EgUm9vdCBDQTAeFw0yNTA2MDEwMDAwMDBaFw0zMDAxMDEwMDAwMDBaMDwxCzAJBgNV"
    "BAYTAlRSMRMwEQYDVQQKDAprYW5jYSB0ZXN0MRgwFgYDVQQDDA9URVNUIGthbmNhIExlYWYwWTATBgcqhkjOPQIBBg"
    "gqhkjOPQMBBwNCAARmyw6WpTeZ5vM1lo3Z6lhtmXiB2+pRZiqlZGrZnO47bhWE7mco777VOyIw1LRXJDY7h05mgW4l"
    "DNZ5HsOMv/9hozIwMDAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDAQBgoqhkiG92NkBgsBBAIFADAKBggqhk"
    "jOPQQDAgNHADBEAiAZdcNbkWb/MbC6bt0f66vhLzryVOto9eib7jUm6T5xygIgTFdsMVJT5Mbl9QyV/f+oAzqlHlIc"
    "ZF6dAaLEmOobSp4=";
static const char LEAF_P384[] =
    "MIIBvzCCAWWgAwIBAgICIAkwCgYIKoZIzj0EAwIwRDELMAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxID"
    "AeBgNVBAMMF1RFU1Qga2FuY2EgSW50ZXJtZWRpYXRlMB4XDTI1MDYwMTAwMDAwMFoXDTMwMDEwMTAwMDAwMFowPDEL"
    "MAkGA1UEBhMCVFIxEzARBgNVBAoMCmthbmNhIHRlc3QxGDAWBgNVBAMMD1RFU1Qga2FuY2EgTGVhZjB2MBAGByqGSM"
    "49AgEGBSuBBAAiA2IABLliIk4zfeVPvz5lxY3Nk2BHdakuvg4D5j961MrFVou7Ez5WsnX71QVS4fhSFkIn1SJUxsj0"
    "Yiz7d71CXxwtw/C7bZ9qr1B6H3F7f+2ETJTIcoM/Ufw+XE1q2EXoQT172KMyMDAwDAYDVR0TAQH/BAIwADAOBgNVHQ"
    "8BAf8EBAMCB4AwEAYKKoZIhvdjZAYLAQQCBQAwCgYIKoZIzj0EAwIDSAAwRQIhAOF69LdiDSz97jaTPC1/a5jEKUwc"
    "KZwDK9RBdLP/YPaAAiBnSlS2TJODr6nPlvGQVWURtAJ6DIKzT30mDaEtcr37aQ==";

static const struct jws_case jws_cases[] = {
    {"good",
     "ES256",
     {LEAF, INT, ROOT},
     3,
     "{\"notificationType\":\"TEST\",\"notificationUUID\":\"0b7f3d57-0000-4000-8000-000000000001\",\"data"
     "\":{\"bundleId\":\"com.example.kanca\",\"environment\":\"Sandbox\"},\"version\":\"2.0\",\"signedDate\":17"
     "67225598500}",
     "p4GvNgjddTl6iumrrYITKgT6XPU1swMO_rldPECkHqB1PGGuKEcoZtQCq9r-f5eDLxu0Tasr1yMeR0dUVT-tWw"},
    {"x5c4",
     "ES256",
     {LEAF, INT, ROOT, ROOT},
     4,
     "{\"notificationType\":\"TEST\",\"notificationUUID\":\"0b7f3d57-0000-4000-8000-000000000001\",\"data"
     "\":{\"bundleId\":\"com.example.kanca\",\"environment\":\"Sandbox\"},\"version\":\"2.0\",\"signedDate\":17"
     "67225598500}",
     "YDZRO-mYAoOwn6BX1pbWCshkoKlAF0xoN13reViD2flL9HjYsZKtoxernmR_J3VnRVE-VO8a7IHqJrhEW_jFtg"},
    {"x5c2",
     "ES256",
     {LEAF, INT},
     2,
     "{\"notificationType\":\"TEST\",\"notificationUUID\":\"0b7f3d57-0000-4000-8000-000000000001\",\"data"
     "\":{\"bundleId\":\"com.example.kanca\",\"environment\":\"Sandbox\"},\"version\":\"2.0\",\"signedDate\":17"
     "67225598500}",
     "gd-ZF-Px-yGj7eRvNFrFixC20YKBnKQB0wdttbWtbOHvy6qKOF5Udig1I1Old7zWPGZ9rxt3X3JDeq7IthbDeQ"},
    {"alg384",
     "ES384",
     {LEAF, INT, ROOT},
     3,
     "{\"notificationType\":\"TEST\",\"notificationUUID\":\"0b7f3d57-0000-4000-8000-000000000001\",\"data"
     "\":{\"bundleId\":\"com.example.kanca\",\"environment\":\"Sandbox\"},\"version\":\"2.0\",\"signedDate\":17"
     "67225598500}",
     "_9w1aJpeb-8t3SYJtBuReMIMZh6x14Xr2t3GkNIZHWKZB-Ee8KlgHFaQvrR_LmLmEghXsje-FwNpTYhBugjKaA"},
    {"dersig",
     "ES256",
     {LEAF, INT, ROOT},
     3,
     "{\"notificationType\":\"TEST\",\"notificationUUID\":\"0b7f3d57-0000-4000-8000-000000000001\",\"data"
     "\":{\"bundleId\":\"com.example.kanca\",\"environment\":\"Sandbox\"},\"version\":\"2.0\",\"signedDate\":17"
     "67225598500}",
     "MEUCIBJuEVFAr0mv1SpHZCVai_ioTRl8v5TY2Ryp_X7MXkNiAiEA_Lp04Rx_6ty0SDTgcwJrmnTPOCp6dVU8IpTRlW"
     "YmwJg"},
    {"p384leaf",
     "ES256",
     {LEAF_P384, INT, ROOT},
     3,
     "{\"notificationType\":\"TEST\",\"notificationUUID\":\"0b7f3d57-0000-4000-8000-000000000001\",\"data"
     "\":{\"bundleId\":\"com.example.kanca\",\"environment\":\"Sandbox\"},\"version\":\"2.0\",\"signedDate\":17"
     "67225598500}",
     "5I7V4Pjnv7SNWwdYAjHqpJMjSQs59xV-w3Svi8BLHl-h8LRwz5Q-nQJcwOTih8VEiuUV-qq331neu7f4bbVv-2P-rM"
     "Ywy41wFKJFJrN3_6UrXNjTi8QX5uQJubMyVmFn"},
    {"intnoca",
     "ES256",
     {LEAF, INT_NOCA, ROOT},
     3,
     "{\"notificationType\":\"TEST\",\"notificationUUID\":\"0b7f3d57-0000-4000-8000-000000000001\",\"data"
     "\":{\"bundleId\":\"com.example.kanca\",\"environment\":\"Sandbox\"},\"version\":\"2.0\",\"signedDate\":17"
     "67225598500}",
     "ybBzxBZo4HVnyZHHkPaK1qChhUnTSs-dOxgzaUeobZhTQtkhUJ3Iav5ON4MYx-QfX5-oMk1-BDlKyN9ybfYY2w"},
    {"leafnooid",
     "ES256",
     {LEAF_NOOID, INT, ROOT},
     3,
     "{\"notificationType\":\"TEST\",\"notificationUUID\":\"0b7f3d57-0000-4000-8000-000000000001\",\"data"
     "\":{\"bundleId\":\"com.example.kanca\",\"environment\":\"Sandbox\"},\"version\":\"2.0\",\"signedDate\":17"
     "67225598500}",
     "seCLwdZxF1OkoJPPL7G3Iy6ymvbdietzetdl1PSd6INqDRxRe8PfLWvwrVtCO527SeeE8_SZhH4-193sZaBI_A"},
    {"introot2",
     "ES256",
     {LEAF, INT_ROOT2, ROOT2},
     3,
     "{\"notificationType\":\"TEST\",\"notificationUUID\":\"0b7f3d57-0000-4000-8000-000000000001\",\"data"
     "\":{\"bundleId\":\"com.example.kanca\",\"environment\":\"Sandbox\"},\"version\":\"2.0\",\"signedDate\":17"
     "67225598500}",
     "qzzxujUEzho7JeysrOvrUDy89dhzFHjGmeonL9AIfwynlohW-oBq1V4a__JLJTrNiB_f2X4roVm6tIa922XAdA"},
    {"prod",
     "ES256",
     {LEAF, INT, ROOT},
     3,
     "{\"notificationType\":\"DID_RENEW\",\"notificationUUID\":\"0b7f3d57-0000-4000-8000-000000000002\","
     "\"data\":{\"appAppleId\":1234567890,\"bundleId\":\"com.example.kanca\",\"bundleVersion\":\"7\",\"enviro"
     "nment\":\"Production\"},\"version\":\"2.0\",\"signedDate\":1767225598500}",
     "UydpLX6hLP2IZw4AlquidwswBK-J0Cty5AevIEnZ0EVej6MT6sIvRrX8X2Z-yQpEv9ume7Eq81ENQfGeUwJHnA"},
    {"summary",
     "ES256",
     {LEAF, INT, ROOT},
     3,
     "{\"notificationType\":\"RENEWAL_EXTENSION\",\"subtype\":\"SUMMARY\",\"notificationUUID\":\"0b7f3d57-0"
     "000-4000-8000-000000000003\",\"summary\":{\"requestIdentifier\":\"r1\",\"environment\":\"Sandbox\",\"a"
     "ppAppleId\":1,\"bundleId\":\"com.example.kanca\",\"productId\":\"p\",\"failedCount\":0,\"succeededCoun"
     "t\":3},\"version\":\"2.0\",\"signedDate\":1767225598500}",
     "7Vsl5xG3qsxEIPpJHnnwuID79XLO2QabEurUl0kSzE24YB-l_Zz8VOWu2eSKOBhLhLgb4r9Brp8XpFzqATgGCw"},
    {"external",
     "ES256",
     {LEAF, INT, ROOT},
     3,
     "{\"notificationType\":\"EXTERNAL_PURCHASE_TOKEN\",\"subtype\":\"UNREPORTED\",\"notificationUUID\":\"0"
     "b7f3d57-0000-4000-8000-000000000004\",\"externalPurchaseToken\":{\"externalPurchaseId\":\"SANDBO"
     "X_1\",\"tokenCreationDate\":1767225500000,\"appAppleId\":5,\"bundleId\":\"com.example.kanca\"},\"ver"
     "sion\":\"2.0\",\"signedDate\":1767225598500}",
     "u2pv1NWKYO2RUPBks0IHIWIi8yID1j2TAx4woM_McLfKVy9kvHSGuyetcwIbHGEZm8QYKVHZeiZ8y_FlZosNGA"},
    {"expired_token",
     "ES256",
     {LEAF, INT, ROOT},
     3,
     "{\"notificationType\":\"TEST\",\"notificationUUID\":\"0b7f3d57-0000-4000-8000-000000000005\",\"data"
     "\":{\"bundleId\":\"com.example.kanca\",\"environment\":\"Sandbox\"},\"exp\":1767225000}",
     "va6FbDgixFizm19yzmxyZnYyTQvEXNDjF-OE5K8oLI1pEyr_Elre1qwwLM-HQjPzZCL3e5-mPHuxI-m5DUnqdA"},
    {"uuid_number",
     "ES256",
     {LEAF, INT, ROOT},
     3,
     "{\"notificationType\":\"TEST\",\"notificationUUID\":7,\"data\":{\"bundleId\":\"com.example.kanca\",\"en"
     "vironment\":\"Sandbox\"},\"version\":\"2.0\"}",
     "gKj3_kZh3oNEir1nWkkd6yavQn07QS8mRqf-x9NxV6y6FpeEioI_G7A0p415XW5Mx8K4Re0SSTzxvrfX4fwjEQ"},
    {"tx_good",
     "ES256",
     {LEAF, INT, ROOT},
     3,
     "{\"transactionId\":\"1\",\"bundleId\":\"com.example.kanca\",\"environment\":\"Sandbox\",\"signedDate\":1"
     "767225598500}",
     "fhlGWyifM1qPqh6uHlQ9zAy3wvR3b1WpMDa2kUFKPiy_PRXoBcKj_q2FiEIDDpfX6F-RcDym81XdvAxSe_1Gow"},
    {"tx_other",
     "ES256",
     {LEAF, INT, ROOT},
     3,
     "{\"transactionId\":\"1\",\"bundleId\":\"com.example.other\",\"environment\":\"Sandbox\",\"signedDate\":1"
     "767225598500}",
     "FqeML3UhMh_fY_CfIHpORdfy8di-2zjsxEgcxxdPYLI289tntiRdJC0lPRtv9DVS-WvNuvIY_6WTDVA63oPjtg"},
    {"renewal",
     "ES256",
     {LEAF, INT, ROOT},
     3,
     "{\"originalTransactionId\":\"1\",\"environment\":\"Sandbox\",\"signedDate\":1767225598500}",
     "WRu9rhp6RxARwSveVRZUf0Sv_FgnOGQhxbDPlLFMGYcHZMmRH7yS2kxR2pSfsmeUrRqumsl2jx4Y7XtXSDMJ0g"},
    {"renewal_prod",
     "ES256",
     {LEAF, INT, ROOT},
     3,
     "{\"originalTransactionId\":\"1\",\"environment\":\"Production\",\"signedDate\":1767225598500}",
     "7CjtSwzxZ8PyZCz5iLhDGcLDLBmnSUkPraIE2d-PXI5_kFz6tY0EDUfGyuoVR_iatKY2qAouFzcph0OEMbfSzw"},
};

static const char nested_fmt[] =
    "{\"notificationType\":\"DID_RENEW\",\"notificationUUID\":\"0b7f3d57-0000-4000-8000-000000000006\","
    "\"data\":{\"bundleId\":\"com.example.kanca\",\"environment\":\"Sandbox\",\"signedTransactionInfo\":\"%s"
    "\",\"signedRenewalInfo\":\"%s\"},\"version\":\"2.0\",\"signedDate\":1767225598500}";
static const struct nested_case nested_cases[] = {
    {"nested_ok", "tx_good", "renewal", NULL,
     "2VXhsrLPaxsuV8tjxnYAhiNy37xhqn3dcVu2Ifo-AkfkVyz-jsK6mqH11_rgKQtFlQgzHlmxtqUQ4FvwgLTC_g"},
    {"nested_tx_other", "tx_other", "renewal", NULL,
     "ltFfTSGofLUfKVnyVH46cMxHfdpVf3N7YLDrIxXVR3bKiqUWFeP3qsMX2ngI0nTqYAtoTvkwfQOZkBqZTp6FTg"},
    {"nested_bad_renewal", "tx_good", "renewal", "tx_good",
     "tkPFmdQX1DBD9dzJSnoXWIy-7FjaqhemgmSqoV82W1cA1bpxQV7_xKPeZAomiZ3DV-bQCDiqhonHyZJfMoVrRQ"},
    {"nested_renewal_env", "tx_good", "renewal_prod", NULL,
     "FyqZWC3fA_uaLQG7juH5Tda_LHDYNSCK7fhUhaEztuu_4p8uVzm-NZDs9AWDsKxVZ0K8R1RnfDPsOhkjXnUVPw"},
};

static const struct rs_der_case rs_der_cases[] = {
    {"high",
     "d6e6b2bab7f2cab661c4a263aa875babc20b4dd769340e3813a2c21b1737868e8b49ba713652b66a79ba20b0e3"
     "054638944bceec1e9201fa89d1fb86bca95f1d",
     "3046022100d6e6b2bab7f2cab661c4a263aa875babc20b4dd769340e3813a2c21b1737868e0221008b49ba7136"
     "52b66a79ba20b0e3054638944bceec1e9201fa89d1fb86bca95f1d"},
    {"zero",
     "0017c4371ee7247b5a6bb766ac25e914e55125d2577143652645514273b6214a2617af893d5c3afdca1af41e6b"
     "65031e00a4ae297214625238df66540e5a76bf",
     "3043021f17c4371ee7247b5a6bb766ac25e914e55125d2577143652645514273b6214a02202617af893d5c3afd"
     "ca1af41e6b65031e00a4ae297214625238df66540e5a76bf"},
};

/* ---- the official library's own chain fixtures (apple/app-store-server-library-node,
 * tests/unit-tests/jws_verification.test.ts, MIT licence, Copyright (c) 2023 Apple Inc.): its test
 * chain and Apple's real chain (Apple Root CA - G3, WWDR G6, a receipt-signing leaf). Public
 * certificates; no keys. The expected results are that test file's. ---- */
static const char LIB_ROOT[] =
    "MIIBgjCCASmgAwIBAgIJALUc5ALiH5pbMAoGCCqGSM49BAMDMDYxCzAJBgNVBAYTAlVTMRMwEQYDVQQIDApDYWxpZm"
    "9ybmlhMRIwEAYDVQQHDAlDdXBlcnRpbm8wHhcNMjMwMTA1MjEzMDIyWhcNMzMwMTAyMjEzMDIyWjA2MQswCQYDVQQG"
    "EwJVUzETMBEGA1UECAwKQ2FsaWZvcm5pYTESMBAGA1UEBwwJQ3VwZXJ0aW5vMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQ"
    "cDQgAEc+/Bl+gospo6tf9Z7io5tdKdrlN1YdVnqEhEDXDShzdAJPQijamXIMHf8xWWTa1zgoYTxOKpbuJtDplz1Xri"
    "TaMgMB4wDAYDVR0TBAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwMDRwAwRAIgemWQXnMAdTad2JDJWn"
    "g9U4uBBL5mA7WI05H7oH7c6iQCIHiRqMjNfzUAyiu9h6rOU/K+iTR0I/3Y/NSWsXHX+acc";
static const char LIB_INT[] =
    "MIIBnzCCAUWgAwIBAgIBCzAKBggqhkjOPQQDAzA2MQswCQYDVQQGEwJVUzETMBEGA1UECAwKQ2FsaWZvcm5pYTESMB"
    "AGA1UEBwwJQ3VwZXJ0aW5vMB4XDTIzMDEwNTIxMzEwNVoXDTMzMDEwMTIxMzEwNVowRTELMAkGA1UEBhMCVVMxCzAJ"
    "BgNVBAgMAkNBMRIwEAYDVQQHDAlDdXBlcnRpbm8xFTATBgNVBAoMDEludGVybWVkaWF0ZTBZMBMGByqGSM49AgEGCC"
    "qGSM49AwEHA0IABBUN5V9rKjfRiMAIojEA0Av5Mp0oF+O0cL4gzrTF178inUHugj7Et46NrkQ7hKgMVnjogq45Q1rM"
    "s+cMHVNILWqjNTAzMA8GA1UdEwQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEGMBAGCiqGSIb3Y2QGAgEEAgUAMAoGCC"
    "qGSM49BAMDA0gAMEUCIQCmsIKYs41ullssHX4rVveUT0Z7Is5/hLK1lFPTtun3hAIgc2+2RG5+gNcFVcs+XJeEl4GZ"
    "+ojl3ROOmll+ye7dynQ=";
static const char LIB_LEAF[] =
    "MIIBoDCCAUagAwIBAgIBDDAKBggqhkjOPQQDAzBFMQswCQYDVQQGEwJVUzELMAkGA1UECAwCQ0ExEjAQBgNVBAcMCU"
    "N1cGVydGlubzEVMBMGA1UECgwMSW50ZXJtZWRpYXRlMB4XDTIzMDEwNTIxMzEzNFoXDTMzMDEwMTIxMzEzNFowPTEL"
    "MAkGA1UEBhMCVVMxCzAJBgNVBAgMAkNBMRIwEAYDVQQHDAlDdXBlcnRpbm8xDTALBgNVBAoMBExlYWYwWTATBgcqhk"
    "jOPQIBBggqhkjOPQMBBwNCAATitYHEaYVuc8g9AjTOwErMvGyPykPa+puvTI8hJTHZZDLGas2qX1+ErxgQTJgVXv76"
    "nmLhhRJH+j25AiAI8iGsoy8wLTAJBgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIHgDAQBgoqhkiG92NkBgsBBAIFADAKBg"
    "gqhkjOPQQDAwNIADBFAiBX4c+T0Fp5nJ5QRClRfu5PSByRvNPtuaTsk0vPB3WAIAIhANgaauAj/YP9s0AkEhyJhxQO"
    "/6Q2zouZ+H1CIOehnMzQ";
static const char LIB_INT_BAD_OID[] =
    "MIIBnjCCAUWgAwIBAgIBDTAKBggqhkjOPQQDAzA2MQswCQYDVQQGEwJVUzETMBEGA1UECAwKQ2FsaWZvcm5pYTESMB"
    "AGA1UEBwwJQ3VwZXJ0aW5vMB4XDTIzMDEwNTIxMzYxNFoXDTMzMDEwMTIxMzYxNFowRTELMAkGA1UEBhMCVVMxCzAJ"
    "BgNVBAgMAkNBMRIwEAYDVQQHDAlDdXBlcnRpbm8xFTATBgNVBAoMDEludGVybWVkaWF0ZTBZMBMGByqGSM49AgEGCC"
    "qGSM49AwEHA0IABBUN5V9rKjfRiMAIojEA0Av5Mp0oF+O0cL4gzrTF178inUHugj7Et46NrkQ7hKgMVnjogq45Q1rM"
    "s+cMHVNILWqjNTAzMA8GA1UdEwQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEGMBAGCiqGSIb3Y2QGAgIEAgUAMAoGCC"
    "qGSM49BAMDA0cAMEQCIFROtTE+RQpKxNXETFsf7Mc0h+5IAsxxo/X6oCC/c33qAiAmC5rn5yCOOEjTY4R1H1QcQVh+"
    "eUwCl13NbQxWCuwxxA==";
static const char LIB_LEAF_FOR_INT_BAD_OID[] =
    "MIIBnzCCAUagAwIBAgIBDjAKBggqhkjOPQQDAzBFMQswCQYDVQQGEwJVUzELMAkGA1UECAwCQ0ExEjAQBgNVBAcMCU"
    "N1cGVydGlubzEVMBMGA1UECgwMSW50ZXJtZWRpYXRlMB4XDTIzMDEwNTIxMzY1OFoXDTMzMDEwMTIxMzY1OFowPTEL"
    "MAkGA1UEBhMCVVMxCzAJBgNVBAgMAkNBMRIwEAYDVQQHDAlDdXBlcnRpbm8xDTALBgNVBAoMBExlYWYwWTATBgcqhk"
    "jOPQIBBggqhkjOPQMBBwNCAATitYHEaYVuc8g9AjTOwErMvGyPykPa+puvTI8hJTHZZDLGas2qX1+ErxgQTJgVXv76"
    "nmLhhRJH+j25AiAI8iGsoy8wLTAJBgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIHgDAQBgoqhkiG92NkBgsBBAIFADAKBg"
    "gqhkjOPQQDAwNHADBEAiAUAs+gzYOsEXDwQquvHYbcVymyNqDtGw9BnUFp2YLuuAIgXxQ3Ie9YU0cMqkeaFd+lyo0a"
    "sv9eyzk6stwjeIeOtTU=";
static const char LIB_LEAF_BAD_OID[] =
    "MIIBoDCCAUagAwIBAgIBDzAKBggqhkjOPQQDAzBFMQswCQYDVQQGEwJVUzELMAkGA1UECAwCQ0ExEjAQBgNVBAcMCU"
    "N1cGVydGlubzEVMBMGA1UECgwMSW50ZXJtZWRpYXRlMB4XDTIzMDEwNTIxMzczMVoXDTMzMDEwMTIxMzczMVowPTEL"
    "MAkGA1UEBhMCVVMxCzAJBgNVBAgMAkNBMRIwEAYDVQQHDAlDdXBlcnRpbm8xDTALBgNVBAoMBExlYWYwWTATBgcqhk"
    "jOPQIBBggqhkjOPQMBBwNCAATitYHEaYVuc8g9AjTOwErMvGyPykPa+puvTI8hJTHZZDLGas2qX1+ErxgQTJgVXv76"
    "nmLhhRJH+j25AiAI8iGsoy8wLTAJBgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIHgDAQBgoqhkiG92NkBgsCBAIFADAKBg"
    "gqhkjOPQQDAwNIADBFAiAb+7S3i//bSGy7skJY9+D4VgcQLKFeYfIMSrUCmdrFqwIhAIMVwzD1RrxPRtJyiOCXLyib"
    "IvwcY+VS73HYfk0O9lgz";
static const char REAL_ROOT_G3[] =
    "MIICQzCCAcmgAwIBAgIILcX8iNLFS5UwCgYIKoZIzj0EAwMwZzEbMBkGA1UEAwwSQXBwbGUgUm9vdCBDQSAtIEczMS"
    "YwJAYDVQQLDB1BcHBsZSBDZXJ0aWZpY2F0aW9uIEF1dGhvcml0eTETMBEGA1UECgwKQXBwbGUgSW5jLjELMAkGA1UE"
    "BhMCVVMwHhcNMTQwNDMwMTgxOTA2WhcNMzkwNDMwMTgxOTA2WjBnMRswGQYDVQQDDBJBcHBsZSBSb290IENBIC0gRz"
    "MxJjAkBgNVBAsMHUFwcGxlIENlcnRpZmljYXRpb24gQXV0aG9yaXR5MRMwEQYDVQQKDApBcHBsZSBJbmMuMQswCQYD"
    "VQQGEwJVUzB2MBAGByqGSM49AgEGBSuBBAAiA2IABJjpLz1AcqTtkyJygRMc3RCV8cWjTnHcFBbZDuWmBSp3ZHtfTj"
    "jTuxxEtX/1H7YyYl3J6YRbTzBPEVoA/VhYDKX1DyxNB0cTddqXl5dvMVztK517IDvYuVTZXpmkOlEKMaNCMEAwHQYD"
    "VR0OBBYEFLuw3qFYM4iapIqZ3r6966/ayySrMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM"
    "49BAMDA2gAMGUCMQCD6cHEFl4aXTQY2e3v9GwOAEZLuN+yRhHFD/3meoyhpmvOwgPUnPWTxnS4at+qIxUCMG1mihDK"
    "1A3UT82NQz60imOlM27jbdoXt2QfyFMm+YhidDkLF1vLUagM6BgD56KyKA==";
static const char REAL_WWDR_G6[] =
    "MIIDFjCCApygAwIBAgIUIsGhRwp0c2nvU4YSycafPTjzbNcwCgYIKoZIzj0EAwMwZzEbMBkGA1UEAwwSQXBwbGUgUm"
    "9vdCBDQSAtIEczMSYwJAYDVQQLDB1BcHBsZSBDZXJ0aWZpY2F0aW9uIEF1dGhvcml0eTETMBEGA1UECgwKQXBwbGUg"
    "SW5jLjELMAkGA1UEBhMCVVMwHhcNMjEwMzE3MjAzNzEwWhcNMzYwMzE5MDAwMDAwWjB1MUQwQgYDVQQDDDtBcHBsZS"
    "BXb3JsZHdpZGUgRGV2ZWxvcGVyIFJlbGF0aW9ucyBDZXJ0aWZpY2F0aW9uIEF1dGhvcml0eTELMAkGA1UECwwCRzYx"
    "EzARBgNVBAoMCkFwcGxlIEluYy4xCzAJBgNVBAYTAlVTMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEbsQKC94PrlWmZX"
    "nXgtxzdVJL8T0SGYngDRGpngn3N6PT8JMEb7FDi4bBmPhCnZ3/sq6PF/cGcKXWsL5vOteRhyJ45x3ASP7cOB+aao90"
    "fcpxSv/EZFbniAbNgZGhIhpIo4H6MIH3MBIGA1UdEwEB/wQIMAYBAf8CAQAwHwYDVR0jBBgwFoAUu7DeoVgziJqkip"
    "nevr3rr9rLJKswRgYIKwYBBQUHAQEEOjA4MDYGCCsGAQUFBzABhipodHRwOi8vb2NzcC5hcHBsZS5jb20vb2NzcDAz"
    "LWFwcGxlcm9vdGNhZzMwNwYDVR0fBDAwLjAsoCqgKIYmaHR0cDovL2NybC5hcHBsZS5jb20vYXBwbGVyb290Y2FnMy"
    "5jcmwwHQYDVR0OBBYEFD8vlCNR01DJmig97bB85c+lkGKZMA4GA1UdDwEB/wQEAwIBBjAQBgoqhkiG92NkBgIBBAIF"
    "ADAKBggqhkjOPQQDAwNoADBlAjBAXhSq5IyKogMCPtw490BaB677CaEGJXufQB/EqZGd6CSjiCtOnuMTbXVXmxxcxf"
    "kCMQDTSPxarZXvNrkxU3TkUMI33yzvFVVRT4wxWJC994OsdcZ4+RGNsYDyR5gmdr0nDGg=";
static const char REAL_LEAF[] =
    "MIIEMTCCA7agAwIBAgIQR8KHzdn554Z/UoradNx9tzAKBggqhkjOPQQDAzB1MUQwQgYDVQQDDDtBcHBsZSBXb3JsZH"
    "dpZGUgRGV2ZWxvcGVyIFJlbGF0aW9ucyBDZXJ0aWZpY2F0aW9uIEF1dGhvcml0eTELMAkGA1UECwwCRzYxEzARBgNV"
    "BAoMCkFwcGxlIEluYy4xCzAJBgNVBAYTAlVTMB4XDTI1MDkxOTE5NDQ1MVoXDTI3MTAxMzE3NDcyM1owgZIxQDA+Bg"
    "NVBAMMN1Byb2QgRUNDIE1hYyBBcHAgU3RvcmUgYW5kIGlUdW5lcyBTdG9yZSBSZWNlaXB0IFNpZ25pbmcxLDAqBgNV"
    "BAsMI0FwcGxlIFdvcmxkd2lkZSBEZXZlbG9wZXIgUmVsYXRpb25zMRMwEQYDVQQKDApBcHBsZSBJbmMuMQswCQYDVQ"
    "QGEwJVUzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNnVvhcv7iT+7Ex5tBMBgrQspHzIsXRi0Yxfek7lv8wEmj/b"
    "HiWtNwJqc2BoHzsQiEjP7KFIIKg4Y8y0/nynuAmjggIIMIICBDAMBgNVHRMBAf8EAjAAMB8GA1UdIwQYMBaAFD8vlC"
    "NR01DJmig97bB85c+lkGKZMHAGCCsGAQUFBwEBBGQwYjAtBggrBgEFBQcwAoYhaHR0cDovL2NlcnRzLmFwcGxlLmNv"
    "bS93d2RyZzYuZGVyMDEGCCsGAQUFBzABhiVodHRwOi8vb2NzcC5hcHBsZS5jb20vb2NzcDAzLXd3ZHJnNjAyMIIBHg"
    "YDVR0gBIIBFTCCAREwggENBgoqhkiG92NkBQYBMIH+MIHDBggrBgEFBQcCAjCBtgyBs1JlbGlhbmNlIG9uIHRoaXMg"
    "Y2VydGlmaWNhdGUgYnkgYW55IHBhcnR5IGFzc3VtZXMgYWNjZXB0YW5jZSBvZiB0aGUgdGhlbiBhcHBsaWNhYmxlIH"
    "N0YW5kYXJkIHRlcm1zIGFuZCBjb25kaXRpb25zIG9mIHVzZSwgY2VydGlmaWNhdGUgcG9saWN5IGFuZCBjZXJ0aWZp"
    "Y2F0aW9uIHByYWN0aWNlIHN0YXRlbWVudHMuMDYGCCsGAQUFBwIBFipodHRwOi8vd3d3LmFwcGxlLmNvbS9jZXJ0aW"
    "ZpY2F0ZWF1dGhvcml0eS8wHQYDVR0OBBYEFIFioG4wMMVA1ku9zJmGNPAVn3eqMA4GA1UdDwEB/wQEAwIHgDAQBgoq"
    "hkiG92NkBgsBBAIFADAKBggqhkjOPQQDAwNpADBmAjEA+qXnREC7hXIWVLsLxznjRpIzPf7VHz9V/CTm8+LJlrQepn"
    "mcPvGLNcX6XPnlcgLAAjEA5IjNZKgg5pQ79knF4IbTXdKv8vutIDMXDmjPVT3dGvFtsGRwXOywR2kZCdSrfeot";

/* ---- helpers ---------------------------------------------------------------------------------- */

static size_t unhex(const char *h, unsigned char *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
	return n;
}

static void b64url(struct buf *out, const void *p, size_t n)
{
	char *t = malloc(n / 3 * 4 + 8);
	size_t len;

	len = verify_base64_encode(p, n, t);
	for (size_t i = 0; i < len; i++) {
		if (t[i] == '+')
			t[i] = '-';
		else if (t[i] == '/')
			t[i] = '_';
		else if (t[i] == '=') {
			len = i;
			break;
		}
	}
	if (buf_append(out, t, len) < 0)
		abort();
	free(t);
}

static void put(struct buf *b, const char *s)
{
	if (buf_append_str(b, s) < 0)
		abort();
}

/* {"alg":ALG,"x5c":[...]} exactly as the fixture generator wrote it */
static void make_header(struct buf *out, const char *alg, const char *const *chain, int n)
{
	struct buf h;

	buf_init(&h, 1 << 20);
	put(&h, "{\"alg\":\"");
	put(&h, alg);
	put(&h, "\",\"x5c\":[");
	for (int i = 0; i < n; i++) {
		put(&h, i ? ",\"" : "\"");
		put(&h, chain[i]);
		put(&h, "\"");
	}
	put(&h, "]}");
	b64url(out, h.data, h.len);
	buf_free(&h);
}

static const struct jws_case *find_case(const char *name)
{
	for (size_t i = 0; i < sizeof jws_cases / sizeof jws_cases[0]; i++)
		if (strcmp(jws_cases[i].name, name) == 0)
			return &jws_cases[i];
	abort();
}

/* header "." payload "." signature of a case; sig_of: take the signature of another case */
static void case_jws(struct buf *out, const char *name, const char *sig_of)
{
	const struct jws_case *c = find_case(name);

	buf_init(out, 1 << 20);
	make_header(out, c->alg, c->chain, c->n);
	put(out, ".");
	b64url(out, c->payload, strlen(c->payload));
	put(out, ".");
	put(out, sig_of ? find_case(sig_of)->sig : c->sig);
}

static void nested_jws(struct buf *out, const struct nested_case *nc)
{
	static const char *const chain[] = {LEAF, INT, ROOT};
	struct buf tx, rn, p;
	int n;

	case_jws(&tx, nc->tx, NULL);
	case_jws(&rn, nc->renewal, nc->renewal_sig_of);
	buf_init(&p, 1 << 20);
	if (buf_printf(&p, nested_fmt, buf_str(&tx), buf_str(&rn)) < 0)
		abort();
	buf_init(out, 1 << 20);
	make_header(out, "ES256", chain, 3);
	put(out, ".");
	b64url(out, p.data, p.len);
	put(out, ".");
	put(out, nc->sig);
	n = (int)out->len;
	(void)n;
	buf_free(&tx);
	buf_free(&rn);
	buf_free(&p);
}

static size_t der_of(const char *b64, unsigned char *out, size_t cap)
{
	long n = verify_base64_decode(b64, strlen(b64), 0, out, cap);

	if (n <= 0)
		abort();
	return (size_t)n;
}

static struct verify_cert *cert_of(const char *b64)
{
	unsigned char der[4096];
	size_t n = der_of(b64, der, sizeof der);

	return verify_cert_parse(der, n);
}

static void header_of(struct apple_header *h, const char *leaf, const char *inter)
{
	memset(h, 0, sizeof *h);
	h->der[0] = malloc(4096);
	h->der[1] = malloc(4096);
	h->der_len[0] = leaf ? der_of(leaf, h->der[0], 4096) : 0;
	h->der_len[1] = der_of(inter, h->der[1], 4096);
	h->alg_es256 = 1;
}

/* options text for a configuration */
static void options_for(struct buf *o, const char *bundle, const char *env, const char *app_id, const char *root)
{
	buf_init(o, 1 << 16);
	if (bundle && buf_printf(o, "bundle_id=%s\n", bundle) < 0)
		abort();
	if (env && buf_printf(o, "environment=%s\n", env) < 0)
		abort();
	if (app_id && buf_printf(o, "app_apple_id=%s\n", app_id) < 0)
		abort();
	if (root && buf_printf(o, "root_cert=%s\n", root) < 0)
		abort();
}

static int load_cfg(struct apple_config *cfg, const char *env, const char *app_id, const char *root)
{
	struct buf o, err;
	int rc;

	options_for(&o, BUNDLE, env, app_id, root);
	buf_init(&err, 512);
	rc = apple_config_load(buf_str(&o), 1, cfg, &err);
	if (rc < 0)
		diag("config: %s", buf_str(&err));
	buf_free(&o);
	buf_free(&err);
	return rc;
}

/* ---- the JWS split and base64url ---------------------------------------------------------------- */

static void test_split(void)
{
	struct apple_jws j;
	static const char ok_jws[] = "eyJh.eyJi.c2ln";
	static const char *const bad[] = {"",	     "abc",    "a.b",	 "a.b.c.d", "a..c",    ".b.c",	 "a.b.",
					  "a+b.c.d", "a.b/.c", "a=.b.c", "a.b.c=",  "a.b.c\n", "a. b.c", "a.b.c."};

	ok(apple_jws_split(ok_jws, strlen(ok_jws), &j) == 0, "split: three segments");
	ok(j.len[0] == 4 && j.len[1] == 4 && j.len[2] == 4 && j.seg[0] == ok_jws && j.seg[1] == ok_jws + 5 &&
	       j.seg[2] == ok_jws + 10,
	   "split: segments point into the input");
	is_int(j.signing_len, 9, "split: the signing input is header.payload");
	ok(apple_jws_split("A.B.C", 3, &j) < 0, "split: honours n (the third segment cut off)");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(apple_jws_split(bad[i], strlen(bad[i]), &j) < 0, "split: \"%s\" refused", bad[i]);
}

static void test_b64url(void)
{
	static const struct {
		const char *in;
		long len;
		const char *out;
	} cases[] = {
	    {"", 0, ""},	{"Zm9v", 3, "foo"}, {"Zm8", 2, "fo"},	 {"Zg", 1, "f"},       {"_-8", 2, "\xff\xef"},
	    {"Zm8=", -1, NULL}, {"Zg==", -1, NULL}, {"Zm9v+", -1, NULL}, {"Zm9v/w", -1, NULL}, {"Z", -1, NULL},
	    {"Zm9", -1, NULL},	{"Zh", -1, NULL},   {"Zm 9v", -1, NULL},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned char *out = NULL;
		long n = apple_b64url_decode(cases[i].in, strlen(cases[i].in), &out);

		if (cases[i].len < 0)
			ok(n == -1 && out == NULL, "base64url \"%s\" refused", cases[i].in);
		else
			is_mem(out, n < 0 ? 0 : (size_t)n, cases[i].out, (size_t)cases[i].len, "base64url \"%s\"",
			       cases[i].in);
		free(out);
	}
}

/* ---- R||S -> DER ------------------------------------------------------------------------------- */

static void test_rs_der(void)
{
	unsigned char rs[64], der[80], want[80], small[70];
	long n;
	size_t wn;

	for (size_t i = 0; i < sizeof rs_der_cases / sizeof rs_der_cases[0]; i++) {
		unhex(rs_der_cases[i].rs_hex, rs);
		wn = unhex(rs_der_cases[i].der_hex, want);
		n = verify_ecdsa_raw_to_der(rs, 64, der, sizeof der);
		is_mem(der, n < 0 ? 0 : (size_t)n, want, wn, "R||S -> DER as OpenSSL signed it (%s)",
		       strcmp(rs_der_cases[i].name, "high") == 0 ? "high bit set: 0x00 prepended"
								 : "leading zero byte dropped");
	}
	/* r = 1 (31 zero bytes), s = 0x00 0x80 ...: zeros dropped, but one kept before a high bit */
	memset(rs, 0, sizeof rs);
	rs[31] = 1;
	rs[33] = 0x80;
	rs[63] = 0x07;
	n = verify_ecdsa_raw_to_der(rs, 64, der, sizeof der);
	{
		/* 30 25 | 02 01 01 | 02 20 00 80 <29 zero bytes> 07 */
		unsigned char w[39] = {0x30, 0x25, 0x02, 0x01, 0x01, 0x02, 0x20, 0x00, 0x80};
		w[38] = 0x07;
		is_mem(der, n < 0 ? 0 : (size_t)n, w, sizeof w,
		       "R||S -> DER: r = 1, s with a zero byte then a high bit");
	}
	memset(rs, 0, sizeof rs);
	n = verify_ecdsa_raw_to_der(rs, 64, der, sizeof der);
	{
		unsigned char w[] = {0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00};
		is_mem(der, n < 0 ? 0 : (size_t)n, w, sizeof w, "R||S -> DER: zeros give INTEGER 0");
	}
	memset(rs, 0xff, sizeof rs);
	n = verify_ecdsa_raw_to_der(rs, 64, der, sizeof der);
	is_int(n, 72, "R||S -> DER: the longest P-256 signature is VERIFY_ECDSA_DER_MAX bytes");
	is_int(verify_ecdsa_raw_to_der(rs, 64, small, 71), -1, "R||S -> DER: refuses when it would not fit");
	is_int(verify_ecdsa_raw_to_der(rs, 63, der, sizeof der), -1, "R||S -> DER: odd length refused");
	is_int(verify_ecdsa_raw_to_der(rs, 0, der, sizeof der), -1, "R||S -> DER: empty refused");
}

/* ---- certificates (verify.c) -------------------------------------------------------------------- */

static void test_certs(void)
{
	unsigned char der[4096], d1[VERIFY_SHA256_LEN], d2[VERIFY_SHA256_LEN];
	size_t n = der_of(ROOT, der, sizeof der);
	struct verify_cert *root = verify_cert_parse(der, n), *root2 = cert_of(ROOT2), *inter = cert_of(INT),
			   *noca = cert_of(INT_NOCA), *leaf = cert_of(LEAF), *nooid = cert_of(LEAF_NOOID);
	long long nb = 0, na = 0;
	char pem[4096];
	int pn;
	long pl;
	unsigned char back[4096];

	ok(root && root2 && inter && noca && leaf && nooid, "fixtures parse as certificates");
	ok(verify_cert_parse(der, n - 1) == NULL, "a truncated certificate is refused");
	der[n] = 0;
	ok(verify_cert_parse(der, n + 1) == NULL, "a certificate with a trailing byte is refused");
	ok(verify_cert_parse((const unsigned char *)"hello", 5) == NULL, "bytes that are no certificate are refused");
	ok(verify_cert_parse(der, 0) == NULL, "an empty certificate is refused");
	ok(verify_cert_signed_by(inter, root), "INT is signed by ROOT");
	ok(!verify_cert_signed_by(inter, root2), "INT is not signed by ROOT2 (same name, other key)");
	ok(verify_cert_signed_by(leaf, inter), "LEAF is signed by INT");
	ok(!verify_cert_signed_by(leaf, root), "LEAF is not signed by ROOT (issuer name differs)");
	ok(verify_cert_is_ca(root) && verify_cert_is_ca(inter), "ROOT and INT are CAs");
	ok(!verify_cert_is_ca(noca) && !verify_cert_is_ca(leaf), "INT_NOCA and LEAF are not CAs");
	is_int(verify_cert_has_extension(leaf, APPLE_OID_LEAF), 1, "LEAF has the leaf OID");
	is_int(verify_cert_has_extension(nooid, APPLE_OID_LEAF), 0, "LEAF_NOOID lacks it");
	is_int(verify_cert_has_extension(inter, APPLE_OID_INTERMEDIATE), 1, "INT has the intermediate OID");
	is_int(verify_cert_has_extension(leaf, APPLE_OID_INTERMEDIATE), 0, "LEAF lacks the intermediate OID");
	is_int(verify_cert_has_extension(leaf, "not an oid"), -1, "a bad OID text is an error");
	ok(verify_cert_validity(leaf, &nb, &na) == 0 && nb == LEAF_NOT_BEFORE && na == LEAF_NOT_AFTER,
	   "LEAF validity in unix seconds (%lld..%lld)", nb, na);
	ok(verify_cert_valid_at(leaf, LEAF_NOT_BEFORE - 60, 60), "valid at notBefore - 60 s with 60 s slack");
	ok(!verify_cert_valid_at(leaf, LEAF_NOT_BEFORE - 61, 60), "not valid at notBefore - 61 s");
	ok(verify_cert_valid_at(leaf, LEAF_NOT_AFTER + 60, 60), "valid at notAfter + 60 s");
	ok(!verify_cert_valid_at(leaf, LEAF_NOT_AFTER + 61, 60), "not valid at notAfter + 61 s");
	ok(verify_cert_sha256(root, d1) == 0 && verify_sha256(der, n, d2) == 0 && memcmp(d1, d2, sizeof d1) == 0,
	   "fingerprint = SHA-256 of the DER");
	ok(verify_cert_sha256(root2, d2) == 0 && memcmp(d1, d2, sizeof d1) != 0, "ROOT2 has another fingerprint");

	/* PEM: 64-character lines, another block before it */
	pn = snprintf(pem, sizeof pem,
		      "junk\n-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n-----BEGIN CERTIFICATE-----\n");
	for (size_t i = 0; i < strlen(ROOT); i += 64)
		pn += snprintf(pem + pn, sizeof pem - (size_t)pn, "%.64s\n", ROOT + i);
	pn += snprintf(pem + pn, sizeof pem - (size_t)pn, "-----END CERTIFICATE-----\n");
	pl = verify_pem_certificate(pem, (size_t)pn, back, sizeof back);
	is_mem(back, pl < 0 ? 0 : (size_t)pl, der, n, "PEM -> DER (other blocks skipped)");
	is_int(verify_pem_certificate(pem, (size_t)pn, back, n - 1), -1, "PEM -> DER: refuses when it would not fit");
	is_int(verify_pem_certificate("-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", 42, back, sizeof back), -1,
	       "PEM without a CERTIFICATE block");
	is_int(verify_pem_certificate("hello", 5, back, sizeof back), -1, "not PEM at all");

	verify_cert_free(root);
	verify_cert_free(root2);
	verify_cert_free(inter);
	verify_cert_free(noca);
	verify_cert_free(leaf);
	verify_cert_free(nooid);
	verify_cert_free(NULL);
}

/* ---- the chain ---------------------------------------------------------------------------------- */

static void chain_case(const char *what, const char *root_b64, const char *leaf, const char *inter, long long t,
		       enum apple_status want)
{
	struct verify_cert *root = cert_of(root_b64), *got_leaf = NULL;
	struct apple_header h;
	enum apple_status st;

	header_of(&h, leaf, inter);
	st = apple_check_chain(root, &h, t, &got_leaf);
	if (!is_int(st, want, "chain: %s -> %s", what, apple_status_text(want)))
		diag("got: %s", apple_status_text(st));
	if (want == APPLE_OK)
		ok(got_leaf != NULL, "chain: %s gives the leaf", what);
	else
		ok(got_leaf == NULL, "chain: %s gives no leaf", what);
	verify_cert_free(got_leaf);
	verify_cert_free(root);
	apple_header_free(&h);
}

static void test_chain(void)
{
	struct apple_header h;

	chain_case("LEAF <- INT <- ROOT", ROOT, LEAF, INT, T_NOW, APPLE_OK);
	chain_case("wrong configured root (ROOT2)", ROOT2, LEAF, INT, T_NOW, APPLE_UNTRUSTED);
	chain_case("intermediate issued by ROOT2", ROOT, LEAF, INT_ROOT2, T_NOW, APPLE_UNTRUSTED);
	chain_case("leaf issued by the root itself", ROOT, LEAF_BY_ROOT, INT, T_NOW, APPLE_UNTRUSTED);
	chain_case("leaf and intermediate swapped", ROOT, INT, LEAF, T_NOW, APPLE_UNTRUSTED);
	chain_case("intermediate not a CA", ROOT, LEAF, INT_NOCA, T_NOW, APPLE_NOT_CA);
	chain_case("leaf without OID 1.2.840.113635.100.6.11.1", ROOT, LEAF_NOOID, INT, T_NOW, APPLE_MISSING_OID);
	chain_case("intermediate without OID 1.2.840.113635.100.6.2.1", ROOT, LEAF, INT_NOOID, T_NOW,
		   APPLE_MISSING_OID);
	chain_case("intermediate expired", ROOT, LEAF, INT_EXPIRED, T_NOW, APPLE_CERT_DATES);
	chain_case("leaf expired 61 s ago", ROOT, LEAF, INT, LEAF_NOT_AFTER + 61, APPLE_CERT_DATES);
	chain_case("leaf expired 60 s ago (skew)", ROOT, LEAF, INT, LEAF_NOT_AFTER + 60, APPLE_OK);
	chain_case("leaf valid in 61 s", ROOT, LEAF, INT, LEAF_NOT_BEFORE - 61, APPLE_CERT_DATES);
	chain_case("leaf valid in 60 s (skew)", ROOT, LEAF, INT, LEAF_NOT_BEFORE - 60, APPLE_OK);
	chain_case("configured root expired (same key and name)", ROOT_EXPIRED, LEAF, INT, T_NOW, APPLE_CERT_DATES);
	chain_case("configured root expired 60 s ago (skew)", ROOT_EXPIRED, LEAF, INT, 1764547260LL, APPLE_OK);
	header_of(&h, ROOT, INT);
	h.der_len[0] = 10;
	{
		struct verify_cert *root = cert_of(ROOT);
		is_int(apple_check_chain(root, &h, T_NOW, NULL), APPLE_BAD_CERTIFICATE,
		       "chain: leaf bytes not a certificate");
		is_int(apple_check_chain(NULL, &h, T_NOW, NULL), APPLE_UNTRUSTED, "chain: no root configured");
		verify_cert_free(root);
	}
	apple_header_free(&h);
}

/* ---- the official library's chain tests, and Apple's real chain --------------------------------- */

#define LIB_EFFECTIVE 1761962975LL /* the library tests' EFFECTIVE_DATE (October 2025) */

static void test_library_chains(void)
{
	unsigned char d[VERIFY_SHA256_LEN];
	char fp[3 * VERIFY_SHA256_LEN];
	struct verify_cert *g3 = cert_of(REAL_ROOT_G3);
	struct apple_config cfg;

	chain_case("library: test chain", LIB_ROOT, LIB_LEAF, LIB_INT, LIB_EFFECTIVE, APPLE_OK);
	chain_case("library: intermediate with OID ...6.2.2", LIB_ROOT, LIB_LEAF_FOR_INT_BAD_OID, LIB_INT_BAD_OID,
		   LIB_EFFECTIVE, APPLE_MISSING_OID);
	chain_case("library: leaf with OID ...6.11.2", LIB_ROOT, LIB_LEAF_BAD_OID, LIB_INT, LIB_EFFECTIVE,
		   APPLE_MISSING_OID);
	chain_case("library: expired chain (2042)", LIB_ROOT, LIB_LEAF, LIB_INT, 2280946846LL, APPLE_CERT_DATES);
	chain_case("library: test chain under the real root", REAL_ROOT_G3, LIB_LEAF, LIB_INT, LIB_EFFECTIVE,
		   APPLE_UNTRUSTED);
	chain_case("Apple's real chain (G3 <- WWDR G6 <- receipt signing, P-384 CAs)", REAL_ROOT_G3, REAL_LEAF,
		   REAL_WWDR_G6, LIB_EFFECTIVE, APPLE_OK);
	chain_case("Apple's real chain under the test root", LIB_ROOT, REAL_LEAF, REAL_WWDR_G6, LIB_EFFECTIVE,
		   APPLE_UNTRUSTED);
	/* the fingerprint kancactl compares with is the real root's */
	ok(g3 && verify_cert_sha256(g3, d) == 0, "Apple Root CA - G3 parses and hashes");
	for (size_t i = 0; i < sizeof d; i++)
		snprintf(fp + 3 * i, 4, "%02X%s", d[i], i + 1 < sizeof d ? ":" : "");
	is_str(fp, APPLE_ROOT_G3_SHA256,
	       "APPLE_ROOT_G3_SHA256 is Apple Root CA - G3's fingerprint (doc/providers.md, apple)");
	verify_cert_free(g3);
	ok(load_cfg(&cfg, "Production", "1234", REAL_ROOT_G3) == 0 && memcmp(cfg.root_sha256, d, sizeof d) == 0,
	   "root_cert = Apple Root CA - G3 loads");
	apple_config_free(&cfg);
}

/* ---- whole JWSs --------------------------------------------------------------------------------- */

static enum apple_status jws_status(const struct buf *jws, const char *root_b64, long long t, char **payload,
				    size_t *plen)
{
	struct verify_cert *root = cert_of(root_b64);
	enum apple_status st = apple_verify_jws(jws->data, jws->len, root, t, payload, plen, NULL);

	verify_cert_free(root);
	return st;
}

static void jws_case(const char *name, long long t, enum apple_status want, const char *what)
{
	struct buf j;
	char *payload = NULL;
	size_t plen = 0;
	enum apple_status st;

	case_jws(&j, name, NULL);
	st = jws_status(&j, ROOT, t, &payload, &plen);
	if (!is_int(st, want, "jws %s: %s -> %s", name, what, apple_status_text(want)))
		diag("got: %s", apple_status_text(st));
	if (want == APPLE_OK)
		is_mem(payload, plen, find_case(name)->payload, strlen(find_case(name)->payload),
		       "jws %s: the decoded payload", name);
	else
		ok(payload == NULL, "jws %s: no payload on failure", name);
	free(payload);
	buf_free(&j);
}

static void test_jws(void)
{
	struct buf j, h;
	char *p;

	jws_case("good", T_NOW, APPLE_OK, "valid chain and ES256 signature");
	jws_case("good", LEAF_NOT_AFTER + 3600, APPLE_CERT_DATES, "checked after the leaf expired");
	jws_case("x5c4", T_NOW, APPLE_CHAIN_LENGTH, "x5c of 4 certificates");
	jws_case("x5c2", T_NOW, APPLE_CHAIN_LENGTH, "x5c of 2 certificates");
	jws_case("alg384", T_NOW, APPLE_BAD_ALG, "alg ES384");
	jws_case("dersig", T_NOW, APPLE_BAD_SIGNATURE, "a DER signature instead of R||S");
	jws_case("p384leaf", T_NOW, APPLE_BAD_SIGNATURE, "a P-384 leaf key with alg ES256");
	jws_case("intnoca", T_NOW, APPLE_NOT_CA, "signed, but the intermediate is no CA");
	jws_case("leafnooid", T_NOW, APPLE_MISSING_OID, "signed, but the leaf lacks the OID");
	jws_case("introot2", T_NOW, APPLE_UNTRUSTED, "signed, chain to another root");
	jws_case("expired_token", T_NOW, APPLE_TOKEN_TIME, "payload exp has passed");
	jws_case("expired_token", 1767224000LL, APPLE_OK, "payload exp not reached yet");

	/* the signature with one bit flipped, then the payload changed after signing */
	case_jws(&j, "good", NULL);
	j.data[j.len - 5] = j.data[j.len - 5] == 'A' ? 'B' : 'A';
	is_int(jws_status(&j, ROOT, T_NOW, NULL, NULL), APPLE_BAD_SIGNATURE, "jws: a changed signature");
	buf_free(&j);
	{
		const struct jws_case *c = find_case("good");
		static const char *const chain[] = {LEAF, INT, ROOT};
		char *tampered = strdup(c->payload);
		char *at = strstr(tampered, "\"TEST\"");

		at[1] = 'B';
		buf_init(&j, 1 << 20);
		make_header(&j, "ES256", chain, 3);
		put(&j, ".");
		b64url(&j, tampered, strlen(tampered));
		put(&j, ".");
		put(&j, c->sig);
		is_int(jws_status(&j, ROOT, T_NOW, NULL, NULL), APPLE_BAD_SIGNATURE,
		       "jws: payload changed after signing");
		buf_free(&j);
		free(tampered);
	}
	/* headers that are not what Apple sends */
	buf_init(&h, 4096);
	b64url(&h, "{\"alg\":\"ES256\",\"x5c\":\"abc\"}", 27);
	put(&h, ".eyJhIjoxfQ.AAAA");
	is_int(jws_status(&h, ROOT, T_NOW, NULL, NULL), APPLE_CHAIN_LENGTH, "jws: x5c a string of length 3");
	buf_reset(&h);
	b64url(&h, "{\"alg\":\"ES256\"}", 15);
	put(&h, ".eyJhIjoxfQ.AAAA");
	is_int(jws_status(&h, ROOT, T_NOW, NULL, NULL), APPLE_CHAIN_LENGTH, "jws: no x5c");
	buf_reset(&h);
	b64url(&h, "{\"alg\":\"ES256\",\"x5c\":[1,2,3]}", 29);
	put(&h, ".eyJhIjoxfQ.AAAA");
	is_int(jws_status(&h, ROOT, T_NOW, NULL, NULL), APPLE_BAD_CERTIFICATE, "jws: x5c entries not strings");
	buf_reset(&h);
	b64url(&h, "{\"alg\":\"ES256\",\"x5c\":[\"MII-\",\"MII\",\"\"]}", 39);
	put(&h, ".eyJhIjoxfQ.AAAA");
	is_int(jws_status(&h, ROOT, T_NOW, NULL, NULL), APPLE_BAD_CERTIFICATE, "jws: x5c entries not base64");
	buf_reset(&h);
	b64url(&h, "[1]", 3);
	put(&h, ".eyJhIjoxfQ.AAAA");
	is_int(jws_status(&h, ROOT, T_NOW, NULL, NULL), APPLE_MALFORMED, "jws: header not an object");
	buf_reset(&h);
	put(&h, "bm90IGpzb24.eyJhIjoxfQ.AAAA");
	is_int(jws_status(&h, ROOT, T_NOW, NULL, NULL), APPLE_MALFORMED, "jws: header not JSON");
	buf_reset(&h);
	put(&h, "e30.e30");
	is_int(jws_status(&h, ROOT, T_NOW, NULL, NULL), APPLE_MALFORMED, "jws: two segments");
	buf_free(&h);
	/* the payload must be a JSON object */
	case_jws(&j, "good", NULL);
	p = strchr(j.data, '.');
	{
		struct buf k;
		buf_init(&k, 1 << 20);
		if (buf_append(&k, j.data, (size_t)(p - j.data)) < 0)
			abort();
		put(&k, ".WzFd.");
		put(&k, find_case("good")->sig);
		is_int(jws_status(&k, ROOT, T_NOW, NULL, NULL), APPLE_MALFORMED, "jws: payload not an object");
		buf_free(&k);
	}
	buf_free(&j);
}

/* ---- notifications: claims and nested JWSs ------------------------------------------------------ */

static void note_case(const char *name, const char *env, const char *app_id, enum apple_status want,
		      const char *want_type, const char *what)
{
	struct apple_config cfg;
	struct apple_notification note;
	struct buf j;
	enum apple_status st;
	char type[KANCA_TYPE_MAX + 1];

	if (load_cfg(&cfg, env, app_id, ROOT) < 0) {
		ok(0, "notification %s: configuration loads", name);
		return;
	}
	case_jws(&j, name, NULL);
	memset(&note, 0, sizeof note);
	st = apple_verify_notification(&cfg, j.data, j.len, T_NOW, &note, NULL);
	if (!is_int(st, want, "notification %s (%s): %s -> %s", name, env, what, apple_status_text(want)))
		diag("got: %s", apple_status_text(st));
	if (want_type) {
		ok(note.root && apple_event_type(note.root, type, sizeof type) == 0 && strcmp(type, want_type) == 0,
		   "notification %s: type %s", name, want_type);
	}
	apple_notification_free(&note);
	apple_config_free(&cfg);
	buf_free(&j);
}

static void test_notifications(void)
{
	struct apple_config cfg;
	struct apple_notification note;
	struct buf j;
	const char *part = NULL;
	enum apple_status st;

	note_case("good", "Sandbox", NULL, APPLE_OK, "TEST", "TEST notification");
	note_case("good", "Production", "1234567890", APPLE_INVALID_APP_IDENTIFIER, NULL,
		  "Sandbox notification without appAppleId, source in Production");
	note_case("prod", "Production", "1234567890", APPLE_OK, "DID_RENEW", "appAppleId matches");
	note_case("prod", "Production", "1234567891", APPLE_INVALID_APP_IDENTIFIER, NULL, "appAppleId differs");
	note_case("prod", "Sandbox", NULL, APPLE_INVALID_ENVIRONMENT, NULL, "environment differs");
	note_case("summary", "Sandbox", NULL, APPLE_OK, "RENEWAL_EXTENSION/SUMMARY", "bundle id from summary");
	note_case("external", "Sandbox", NULL, APPLE_OK, "EXTERNAL_PURCHASE_TOKEN/UNREPORTED",
		  "externalPurchaseToken, SANDBOX id");
	note_case("external", "Production", "5", APPLE_INVALID_ENVIRONMENT, NULL,
		  "externalPurchaseToken with a SANDBOX id, source in Production");
	note_case("uuid_number", "Sandbox", NULL, APPLE_MALFORMED, NULL, "notificationUUID is a number");
	note_case("tx_good", "Sandbox", NULL, APPLE_INVALID_APP_IDENTIFIER, NULL,
		  "a transaction is no notification (no data/summary)");

	/* another bundle id configured */
	{
		struct buf o, err;
		options_for(&o, "com.example.other", "Sandbox", NULL, ROOT);
		buf_init(&err, 256);
		if (apple_config_load(buf_str(&o), 1, &cfg, &err) < 0)
			abort();
		case_jws(&j, "good", NULL);
		is_int(apple_verify_notification(&cfg, j.data, j.len, T_NOW, NULL, NULL), APPLE_INVALID_APP_IDENTIFIER,
		       "notification: bundle id differs");
		apple_config_free(&cfg);
		buf_free(&j);
		buf_free(&o);
		buf_free(&err);
	}

	/* nested signedTransactionInfo / signedRenewalInfo */
	if (load_cfg(&cfg, "Sandbox", NULL, ROOT) < 0)
		abort();
	nested_jws(&j, &nested_cases[0]);
	memset(&note, 0, sizeof note);
	st = apple_verify_notification(&cfg, j.data, j.len, T_NOW, &note, &part);
	is_int(st, APPLE_OK, "nested: transaction and renewal info verified");
	is_str(note.transaction, find_case("tx_good")->payload, "nested: the decoded transaction is kept");
	is_str(note.renewal, find_case("renewal")->payload, "nested: the decoded renewal info is kept");
	apple_notification_free(&note);
	{
		struct apple_notification d;
		ok(apple_decode_notification(j.data, j.len, &d) == APPLE_OK && d.transaction && d.renewal &&
		       strcmp(d.transaction, find_case("tx_good")->payload) == 0,
		   "nested: decoding again (identify) gives the same texts");
		apple_notification_free(&d);
	}
	buf_free(&j);
	nested_jws(&j, &nested_cases[1]);
	st = apple_verify_notification(&cfg, j.data, j.len, T_NOW, NULL, &part);
	is_int(st, APPLE_INVALID_APP_IDENTIFIER, "nested: a transaction of another bundle");
	is_str(part, "data.signedTransactionInfo", "nested: the failing part is named");
	buf_free(&j);
	nested_jws(&j, &nested_cases[2]);
	st = apple_verify_notification(&cfg, j.data, j.len, T_NOW, NULL, &part);
	is_int(st, APPLE_BAD_SIGNATURE, "nested: renewal info with a signature of other bytes");
	is_str(part, "data.signedRenewalInfo", "nested: the failing part is named");
	buf_free(&j);
	nested_jws(&j, &nested_cases[3]);
	st = apple_verify_notification(&cfg, j.data, j.len, T_NOW, NULL, &part);
	is_int(st, APPLE_INVALID_ENVIRONMENT, "nested: renewal info of another environment");
	is_str(part, "data.signedRenewalInfo", "nested: the failing part is named");
	buf_free(&j);
	apple_config_free(&cfg);
	/* a nested JWS checked against another root fails with the outer one */
	if (load_cfg(&cfg, "Sandbox", NULL, ROOT2) < 0)
		abort();
	nested_jws(&j, &nested_cases[0]);
	is_int(apple_verify_notification(&cfg, j.data, j.len, T_NOW, NULL, &part), APPLE_UNTRUSTED,
	       "nested: the whole notification refused under another root");
	is_str(part, "signedPayload", "nested: the outer part is named");
	buf_free(&j);
	apple_config_free(&cfg);
}

/* ---- options ------------------------------------------------------------------------------------ */

static void test_options(void)
{
	const struct provider *p = registry_find("apple");
	struct buf o, err;
	static const struct {
		const char *bundle, *env, *app_id, *root;
		int ok;
		const char *what;
	} cases[] = {
	    {BUNDLE, "Sandbox", NULL, ROOT, 1, "bundle_id, Sandbox, root_cert"},
	    {BUNDLE, "Sandbox", NULL, NULL, 0, "root_cert missing (an apple source must have its root)"},
	    {BUNDLE, "Production", "42", ROOT, 1, "Production with app_apple_id"},
	    {NULL, "Sandbox", NULL, ROOT, 0, "bundle_id missing"},
	    {"", "Sandbox", NULL, ROOT, 0, "bundle_id empty"},
	    {BUNDLE, NULL, NULL, ROOT, 0, "environment missing"},
	    {BUNDLE, "sandbox", NULL, ROOT, 0, "environment not Sandbox|Production"},
	    {BUNDLE, "Production", NULL, ROOT, 0, "Production without app_apple_id"},
	    {BUNDLE, "Sandbox", "12x", ROOT, 0, "app_apple_id not a number"},
	    {BUNDLE, "Production", "123456789012345", ROOT, 1, "app_apple_id of 15 digits"},
	    {BUNDLE, "Production", "1234567890123456", ROOT, 0, "app_apple_id of 16 digits (beyond exact doubles)"},
	    {BUNDLE, "Sandbox", NULL, "MIIB", 0, "root_cert not a certificate"},
	    {BUNDLE, "Sandbox", NULL, "not base64!", 0, "root_cert not base64"},
	};

	ok(p != NULL && p->check_options && !p->needs_secret, "apple: registered, checks options, needs no secret");
	if (!p)
		return;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		options_for(&o, cases[i].bundle, cases[i].env, cases[i].app_id, cases[i].root);
		buf_init(&err, 512);
		is_int(p->check_options(buf_str(&o), &err) == 0, cases[i].ok, "options: %s", cases[i].what);
		if (!cases[i].ok)
			ok(err.len > 0, "options: %s explained (%s)", cases[i].what, buf_str(&err));
		buf_free(&o);
		buf_free(&err);
	}
	options_for(&o, BUNDLE, "Sandbox", NULL, ROOT);
	put(&o, "secret_key=1\n");
	buf_init(&err, 512);
	is_int(p->check_options(buf_str(&o), &err), -1, "options: an unknown key refused");
	buf_free(&o);
	buf_free(&err);
}

/* ---- the provider through its vtable ------------------------------------------------------------ */

struct call_result {
	enum outcome verify, identify;
	char type[KANCA_TYPE_MAX + 1], key[KANCA_KEY_MAX + 1], reason[KANCA_REASON_MAX + 1];
	char *decoded;
};

static void run_provider(const char *options, const void *body, size_t len, long long now, struct call_result *r)
{
	const struct provider *p = registry_find("apple");
	static struct request req;
	struct store_source src;
	struct provider_call c;
	struct verdict v;
	struct provider_event evs[KANCA_EVENTS_MAX];
	struct buf reason;
	size_t nevs = 0;
	void *state = NULL;

	memset(r, 0, sizeof *r);
	memset(&req, 0, sizeof req);
	snprintf(req.method, sizeof req.method, "POST");
	buf_init(&req.body, 1 << 24);
	if (len && buf_append(&req.body, body, len) < 0)
		abort();
	memset(&src, 0, sizeof src);
	src.id = 1;
	snprintf(src.provider, sizeof src.provider, "apple");
	snprintf(src.account, sizeof src.account, "test");
	src.enabled = 1;
	src.options = (char *)options;
	c.req = &req;
	c.source = &src;
	c.cfg = NULL;
	c.now = now;
	memset(&v, 0, sizeof v);
	memset(evs, 0, sizeof evs);
	r->verify = p->verify(&c, &v);
	snprintf(r->reason, sizeof r->reason, "%s", v.reason);
	r->identify = OUTCOME__COUNT;
	if (r->verify == OUTCOME_OK) {
		buf_init(&reason, KANCA_REASON_MAX);
		r->identify = p->identify(&c, evs, &nevs, &reason, &state);
		if (r->identify == OUTCOME_OK && nevs == 1) {
			snprintf(r->type, sizeof r->type, "%s", evs[0].type);
			snprintf(r->key, sizeof r->key, "%s", evs[0].key);
		} else if (r->identify == OUTCOME_OK) {
			r->identify = OUTCOME_INTERNAL;
		}
		if (state && apple_state_decoded(state))
			r->decoded = strdup(apple_state_decoded(state));
		if (state)
			p->state_free(state);
		buf_free(&reason);
	}
	buf_free(&req.body);
}

static void test_provider(void)
{
	struct buf o, body, j;
	struct call_result r;
	static const char *const bad_bodies[] = {
	    "",
	    "not json",
	    "[]",
	    "{}",
	    "{\"signedPayload\":5}",
	    "{\"signedPayload\":null}",
	    "{\"payload\":\"a.b.c\"}",
	    "{\"signedPayload\":[\"a.b.c\"]}",
	};

	options_for(&o, BUNDLE, "Sandbox", NULL, ROOT);
	case_jws(&j, "good", NULL);
	buf_init(&body, 1 << 20);
	if (buf_printf(&body, "{\"signedPayload\":\"%s\",\"other\":1}", buf_str(&j)) < 0)
		abort();
	run_provider(buf_str(&o), body.data, body.len, T_NOW, &r);
	is_int(r.verify, OUTCOME_OK, "provider: a valid notification is authentic");
	is_int(r.identify, OUTCOME_OK, "provider: and identified");
	is_str(r.type, "TEST", "provider: type notificationType");
	is_str(r.key, "0b7f3d57-0000-4000-8000-000000000001", "provider: key notificationUUID");
	ok(r.decoded && strncmp(r.decoded, "{\"notification\":{\"notificationType\":\"TEST\"", 42) == 0 &&
	       strstr(r.decoded, ",\"transaction\":null,\"renewal\":null}"),
	   "provider: the decoded texts are kept in the state");
	if (r.decoded) {
		struct json *dj = NULL;
		ok(json_parse(r.decoded, strlen(r.decoded), 32, &dj) == JSON_OK,
		   "provider: the decoded texts are JSON");
		json_free(dj);
	}
	free(r.decoded);

	run_provider(buf_str(&o), body.data, body.len, LEAF_NOT_AFTER + 61, &r);
	is_int(r.verify, OUTCOME_UNAUTHORIZED, "provider: an expired leaf is 401 (%s)", r.reason);
	free(r.decoded);
	buf_free(&o);

	options_for(&o, BUNDLE, "Sandbox", NULL, ROOT2);
	run_provider(buf_str(&o), body.data, body.len, T_NOW, &r);
	is_int(r.verify, OUTCOME_UNAUTHORIZED, "provider: another root configured is 401 (%s)", r.reason);
	buf_free(&o);

	options_for(&o, BUNDLE, "Sandbox", NULL, NULL);
	run_provider(buf_str(&o), body.data, body.len, T_NOW, &r);
	is_int(r.verify, OUTCOME_INTERNAL, "provider: no root_cert fails closed with 500");
	buf_free(&o);
	run_provider("", body.data, body.len, T_NOW, &r);
	is_int(r.verify, OUTCOME_INTERNAL, "provider: no options at all fails closed with 500");

	options_for(&o, BUNDLE, "Sandbox", NULL, ROOT);
	for (size_t i = 0; i < sizeof bad_bodies / sizeof bad_bodies[0]; i++) {
		run_provider(buf_str(&o), bad_bodies[i], strlen(bad_bodies[i]), T_NOW, &r);
		is_int(r.verify, OUTCOME_BAD_REQUEST, "provider: body %s is 400",
		       bad_bodies[i][0] ? bad_bodies[i] : "(empty)");
	}
	run_provider(buf_str(&o), "{\"signedPayload\":\"a.b.c\"}", 25, T_NOW, &r);
	is_int(r.verify, OUTCOME_UNAUTHORIZED, "provider: a signedPayload that is no JWS is 401");
	run_provider(buf_str(&o), "{\"signedPayload\":\"\"}", 20, T_NOW, &r);
	is_int(r.verify, OUTCOME_UNAUTHORIZED, "provider: an empty signedPayload is 401");

	/* nested: the decoded transaction and renewal info land in the state */
	buf_free(&j);
	nested_jws(&j, &nested_cases[0]);
	buf_reset(&body);
	if (buf_printf(&body, "{\"signedPayload\":\"%s\"}", buf_str(&j)) < 0)
		abort();
	run_provider(buf_str(&o), body.data, body.len, T_NOW, &r);
	ok(r.verify == OUTCOME_OK && r.identify == OUTCOME_OK && strcmp(r.type, "DID_RENEW") == 0,
	   "provider: nested notification accepted, type without subtype");
	ok(r.decoded && strstr(r.decoded, ",\"transaction\":{\"transactionId\":\"1\"") &&
	       strstr(r.decoded, ",\"renewal\":{\"originalTransactionId\":\"1\""),
	   "provider: nested decoded texts kept");
	free(r.decoded);
	buf_free(&j);
	nested_jws(&j, &nested_cases[2]);
	buf_reset(&body);
	if (buf_printf(&body, "{\"signedPayload\":\"%s\"}", buf_str(&j)) < 0)
		abort();
	run_provider(buf_str(&o), body.data, body.len, T_NOW, &r);
	is_int(r.verify, OUTCOME_UNAUTHORIZED, "provider: a broken nested signature is 401 (%s)", r.reason);
	ok(strstr(r.reason, "data.signedRenewalInfo") != NULL, "provider: the reason names the nested part");
	buf_free(&j);
	buf_free(&o);
	buf_free(&body);
}

/* ---- tests/vectors.json ------------------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[65536], *p;
	size_t n;

	if (!f)
		return NULL;
	buf_init(&b, 64 * 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_append(&b, chunk, n) < 0)
			abort();
	fclose(f);
	*len = b.len;
	p = malloc(b.len + 1);
	if (!p)
		abort();
	memcpy(p, buf_str(&b), b.len + 1);
	buf_free(&b);
	return p;
}

static void test_vectors(void)
{
	const char *dir = getenv("KANCA_SRCDIR");
	char path[4096];
	size_t len = 0, seen = 0;
	char *text;
	struct json *root = NULL;
	const struct json *vs;

	snprintf(path, sizeof path, "%s/tests/vectors.json", dir ? dir : "..");
	text = read_file(path, &len);
	if (!ok(text != NULL, "read %s", path))
		return;
	if (!ok(json_parse(text, len, 32, &root) == JSON_OK, "vectors.json parses")) {
		free(text);
		return;
	}
	vs = json_get(root, "vectors");
	for (size_t i = 0; i < json_array_len(vs); i++) {
		const struct json *v = json_array_at(vs, i), *ap = json_get(v, "apple");
		const char *name = json_get_string(v, "name", NULL), *expect = json_get_string(v, "expect", NULL);
		const char *pem = json_get_string(v, "trusted_root_pem", NULL),
			   *b64 = json_get_string(v, "body_b64", NULL);
		const char *app_id_text = NULL;
		char app_id[32] = "", root_b64[4096];
		unsigned char der[4096], *body;
		long dn, bn;
		struct buf o;
		struct call_result r;
		int valid;

		if (!json_get_string(v, "provider", NULL) || strcmp(json_get_string(v, "provider", NULL), "apple") != 0)
			continue;
		seen++;
		valid = expect && strcmp(expect, "valid") == 0;
		dn = pem ? verify_pem_certificate(pem, strlen(pem), der, sizeof der) : -1;
		if (!ok(dn > 0 && ap && b64, "vector %s: has trusted_root_pem, apple settings and a body", name))
			continue;
		verify_base64_encode(der, (size_t)dn, root_b64);
		if (json_get(ap, "app_apple_id")) {
			const struct json *aid = json_get(ap, "app_apple_id");
			app_id_text = json_kind_of(aid) == JSON_STRING ? json_string(aid, NULL) : json_number_text(aid);
			snprintf(app_id, sizeof app_id, "%s", app_id_text ? app_id_text : "");
		}
		options_for(&o, json_get_string(ap, "bundle_id", NULL), json_get_string(ap, "environment", NULL),
			    app_id[0] ? app_id : NULL, root_b64);
		body = malloc(strlen(b64));
		bn = verify_base64_decode(b64, strlen(b64), 0, body, strlen(b64));
		run_provider(buf_str(&o), body, bn < 0 ? 0 : (size_t)bn, json_integer(json_get(v, "now")), &r);
		if (valid) {
			is_int(r.verify, OUTCOME_OK, "vector %s: valid -> authentic%s%s", name, r.reason[0] ? ": " : "",
			       r.reason);
			is_int(r.identify, OUTCOME_OK, "vector %s: identified", name);
			is_str(r.type, json_get_string(v, "event_type", NULL), "vector %s: event type", name);
			is_str(r.key, json_get_string(v, "idempotency_key", NULL), "vector %s: idempotency key", name);
		} else {
			is_int(r.verify, OUTCOME_UNAUTHORIZED, "vector %s: invalid -> 401 (%s)", name, r.reason);
		}
		free(r.decoded);
		free(body);
		buf_free(&o);
	}
	ok(seen >= 10, "%zu apple vectors checked", seen);
	json_free(root);
	free(text);
}

int main(void)
{
	test_split();
	test_b64url();
	test_rs_der();
	test_certs();
	test_chain();
	test_library_chains();
	test_jws();
	test_notifications();
	test_options();
	test_provider();
	test_vectors();
	return done_testing();
}
