/* caps.h: every size limit kanca enforces, in one place. */
#ifndef KANCA_CAPS_H
#define KANCA_CAPS_H

#define KANCA_BODY_DEFAULT      (1024 * 1024)      /* max_body_bytes default: 1 MiB */
#define KANCA_BODY_LIMIT        (64 * 1024 * 1024) /* highest max_body_bytes accepted */
#define KANCA_HEADER_VALUE_MAX  8192  /* one header value; beyond: 431 */
#define KANCA_HEADERS_MAX       128   /* request headers kept; beyond: 431 */
#define KANCA_PATH_MAX          1024  /* request path; beyond: 414 */
#define KANCA_SEGMENT_MAX       128   /* provider or account segment of a route */
#define KANCA_JSON_DEPTH        32    /* nesting of any JSON document */
#define KANCA_SECRET_MAX        512   /* bytes of one secret */
#define KANCA_SECRETS_MAX       8     /* secrets per source (rotation) */
#define KANCA_KEY_MAX           256   /* idempotency key */
#define KANCA_TYPE_MAX          128   /* event type */
#define KANCA_SIGNATURES_MAX    16    /* signatures in one header list */
#define KANCA_OPTION_MAX        4096  /* one per-source option value (an Apple root certificate fits) */
#define KANCA_CONFIG_LINE_MAX   4096  /* one line of the configuration file */
#define KANCA_REASON_MAX        200   /* reason text kept in the audit log */

#endif
