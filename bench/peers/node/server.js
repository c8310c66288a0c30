'use strict';
// kanca benchmark peer: POST /api/suppliers/bench/webhook in Express + pg, node's cluster module with
// one worker per CPU (bench/peers.py starts it; see bench/README.md, "Peers").
//
// The route reads the raw body, checks X-Signature = lowercase hex HMAC-SHA256(secret, raw body) with
// a timing-safe compare (401 otherwise), parses the JSON (400 unless it has a string eventId), inserts
// one row into peer_events (ON CONFLICT DO NOTHING) and answers 200 once the insert has committed
// (an autocommit statement: pool.query resolves after the commit).
//
// Environment: PEER_PORT (listens on 127.0.0.1 only), PEER_SECRET, PGHOST (the unix socket directory),
// PGUSER, PGDATABASE, PEER_POOL (connections per worker, default 10), PEER_WORKERS (default: CPUs).
const cluster = require('node:cluster');
const os = require('node:os');

const workers = parseInt(process.env.PEER_WORKERS || '0', 10) || os.availableParallelism();

if (cluster.isPrimary) {
	let stopping = false;
	for (let i = 0; i < workers; i++)
		cluster.fork();
	cluster.on('exit', (w, code, sig) => {
		if (!stopping) {
			console.error(`worker ${w.process.pid} exited (${sig || code}); stopping`);
			process.exit(1);
		}
	});
	const stop = () => {
		stopping = true;
		for (const id in cluster.workers)
			cluster.workers[id].kill('SIGTERM');
		setTimeout(() => process.exit(0), 2000).unref();
		cluster.disconnect(() => process.exit(0));
	};
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
	let ready = 0;
	cluster.on('listening', () => {
		if (++ready === workers)
			console.log(`READY ${workers}`);
	});
} else {
	const crypto = require('node:crypto');
	const express = require('express');
	const { Pool } = require('pg');

	const port = parseInt(process.env.PEER_PORT, 10);
	const secret = process.env.PEER_SECRET || '';
	if (!port || !secret) {
		console.error('PEER_PORT and PEER_SECRET are required');
		process.exit(2);
	}
	const pool = new Pool({ max: parseInt(process.env.PEER_POOL || '10', 10) });
	pool.on('error', (err) => console.error('pool:', err.message));

	const INSERT = 'INSERT INTO peer_events (source, idempotency_key, event_type, body, headers, received_at) ' +
		'VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source, idempotency_key) DO NOTHING';

	const app = express();
	app.disable('x-powered-by');
	app.disable('etag');
	app.post('/api/suppliers/:account/webhook', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
		const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
		const given = req.get('x-signature') || '';
		const want = Buffer.from(crypto.createHmac('sha256', secret).update(raw).digest('hex'), 'utf8');
		const got = Buffer.from(given, 'utf8');
		// timingSafeEqual needs equal lengths (in bytes); the length of a hex digest is no secret
		if (got.length !== want.length || !crypto.timingSafeEqual(got, want))
			return res.status(401).json({ success: false, message: 'Invalid signature' });
		let ev;
		try {
			ev = JSON.parse(raw.toString('utf8'));
		} catch (e) {
			return res.status(400).json({ success: false, message: 'Invalid JSON' });
		}
		if (!ev || typeof ev.eventId !== 'string' || ev.eventId === '')
			return res.status(400).json({ success: false, message: 'Missing eventId' });
		// every request header as JSON (node gives them with lowercase names), as kanca stores them
		const headers = JSON.stringify(req.headers);
		try {
			await pool.query(INSERT, ['supplier/' + req.params.account, ev.eventId,
				typeof ev.event === 'string' ? ev.event : null, raw, headers, Math.floor(Date.now() / 1000)]);
		} catch (e) {
			console.error('insert:', e.message);
			return res.status(503).json({ success: false, message: 'Store unavailable' });
		}
		res.status(200).json({ success: true, message: 'Event received', event: ev.event });
	});
	app.use((req, res) => res.status(404).json({ success: false, message: 'Not found' }));

	const server = app.listen(port, '127.0.0.1');
	server.keepAliveTimeout = 60000;
	process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
}
