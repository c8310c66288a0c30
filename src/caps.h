/* caps.h: every size limit kanca enforces, in one place. */
#ifndef KANCA_CAPS_H
#define KANCA_CAPS_H

/* clang-format off: a table, aligned by hand */

/* ---- a request ---- */
#define KANCA_BODY_DEFAULT     (1024 * 1024)	  /* max_body_bytes default: 1 MiB */
#define KANCA_BODY_LIMIT       (64 * 1024 * 1024) /* highest max_body_bytes accepted */
#define KANCA_HEADER_VALUE_MAX 8192		  /* one header value; beyond: 431 */
#define KANCA_HEADERS_MAX      128		  /* request headers kept; beyond: 431 */
#define KANCA_HEADERS_JSON_MAX (KANCA_HEADERS_MAX * (KANCA_HEADER_VALUE_MAX + 256)) /* stored headers */
#define KANCA_PATH_MAX	       1024						    /* request path; beyond: 414 */
#define KANCA_SEGMENT_MAX      128		    /* provider or account segment of a route */
#define KANCA_JSON_DEPTH       32		    /* nesting of any JSON document */
#define KANCA_EVENTS_MAX       100		    /* events in one request (a Trendyol page) */
#define KANCA_DRAIN_MAX	       (64LL * 1024 * 1024) /* CGI: unread body bytes read and dropped after an answer */
#define KANCA_DOCTOR_NONCE_MAX 128		    /* X-Kanca-Doctor value echoed by a self-test answer */

/* ---- what kanca keeps and answers ---- */
#define KANCA_KEY_MAX		   256		 /* idempotency key */
#define KANCA_TYPE_MAX		   128		 /* event type */
#define KANCA_REASON_MAX	   200		 /* reason text kept in the audit log */
#define KANCA_RESPONSE_BODY_MAX	   (64 * 1024)	 /* an answer's body */
#define KANCA_RESPONSE_HEADERS_MAX 4096		 /* an answer's extra header lines */
#define KANCA_ANSWER_MAX	   (1024 * 1024) /* a whole serialised answer (status, headers, body) */
#define KANCA_STORED_ANSWER_MAX	   (64 * 1024)	 /* the answer kept for a duplicate */

/* ---- sources and configuration ---- */
#define KANCA_SECRET_MAX      512	  /* bytes of one secret */
#define KANCA_SECRETS_MAX     8		  /* secrets per source (rotation) */
#define KANCA_SIGNATURES_MAX  16	  /* signatures in one header list */
#define KANCA_OPTION_MAX      4096	  /* one per-source option value (an Apple root certificate fits) */
#define KANCA_OPTION_ID_MAX   256	  /* an id-like option value (ikas merchant_id, a Trendyol username) */
#define KANCA_OPTION_WORD_MAX 16	  /* a keyword option value (Trendyol auth_mode) */
#define KANCA_BUNDLE_ID_MAX   255	  /* Apple bundle_id */
#define KANCA_CONFIG_LINE_MAX 4096	  /* one line of the configuration file */
#define KANCA_CERT_FILE_MAX   (64 * 1024) /* a PEM file read by kancactl source add --root-cert */

/* ---- outgoing HTTP (forward actions, kancactl doctor) ---- */
#define KANCA_URL_MAX			4096	    /* a destination or probe URL */
#define KANCA_FORWARD_RESPONSE_MAX	(64 * 1024) /* answer body bytes read (and dropped), then we hang up */
#define KANCA_FORWARD_EXTRA_HEADERS_MAX 32	    /* extra header lines of one forward target */
#define KANCA_FORWARD_HEADER_LINE_MAX	8192	    /* one extra header line, name included */
#define KANCA_RETRY_AFTER_TEXT		64	    /* longest Retry-After value looked at */
#define KANCA_DOCTOR_ANSWER_MAX		(64 * 1024) /* probe answer bytes kept (the rest is read and dropped) */
#define KANCA_DOCTOR_BODY_MAX		(KANCA_BODY_LIMIT + 64 * 1024) /* a probe of max_body_bytes in ikas' envelope */

/* clang-format on */

#endif
