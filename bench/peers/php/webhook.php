<?php
// kanca benchmark peer: POST /api/suppliers/bench/webhook in PHP under PHP-FPM (pm = static) behind
// lighttpd's mod_fastcgi, one persistent PostgreSQL connection per FPM child (pg_pconnect). bench/peers.py
// starts it; see bench/README.md, "Peers".
//
// Reads the raw body, checks X-Signature = lowercase hex HMAC-SHA256(secret, raw body) with hash_equals
// (401 otherwise), parses the JSON (400 unless it has a string eventId), inserts one row into peer_events
// (ON CONFLICT DO NOTHING) and answers 200 once the insert has committed (an autocommit statement:
// pg_query_params returns after the commit).
//
// Environment (php-fpm with clear_env = no): PEER_SECRET, PEER_PG (a libpq connection string).
header('Content-Type: application/json');

function answer($status, $doc)
{
	http_response_code($status);
	echo json_encode($doc, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
	exit;
}

if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST' ||
    !preg_match('#^/api/suppliers/([^/]+)/webhook$#', parse_url($_SERVER['REQUEST_URI'] ?? '', PHP_URL_PATH), $m))
	answer(404, ['success' => false, 'message' => 'Not found']);
$account = $m[1];

$secret = getenv('PEER_SECRET');
$raw = file_get_contents('php://input');
$given = $_SERVER['HTTP_X_SIGNATURE'] ?? '';
if ($secret === false || $secret === '' || !hash_equals(hash_hmac('sha256', $raw, $secret), $given))
	answer(401, ['success' => false, 'message' => 'Invalid signature']);

$ev = json_decode($raw, true);
if (!is_array($ev) || !isset($ev['eventId']) || !is_string($ev['eventId']) || $ev['eventId'] === '')
	answer(400, ['success' => false, 'message' => 'Missing eventId or invalid JSON']);
$type = isset($ev['event']) && is_string($ev['event']) ? $ev['event'] : null;

$db = pg_pconnect(getenv('PEER_PG'));
if ($db === false)
	answer(503, ['success' => false, 'message' => 'Store unavailable']);
// every request header as JSON with lowercase names, as kanca stores them
$headers = json_encode(array_change_key_case(getallheaders(), CASE_LOWER), JSON_UNESCAPED_SLASHES);
$r = @pg_query_params($db,
	'INSERT INTO peer_events (source, idempotency_key, event_type, body, headers, received_at) ' .
	'VALUES ($1, $2, $3, decode($4, \'hex\'), $5, $6) ON CONFLICT (source, idempotency_key) DO NOTHING',
	['supplier/' . $account, $ev['eventId'], $type, bin2hex($raw), $headers, time()]);
if ($r === false) {
	error_log('insert: ' . pg_last_error($db));
	answer(503, ['success' => false, 'message' => 'Store unavailable']);
}
answer(200, ['success' => true, 'message' => 'Event received', 'event' => $type]);
