// Sends the calls described on stdin with @segment/analytics-node, then flushes and reports.
// stdin: {"host": "...", "writeKey": "...", "calls": [{"method": "track", "args": {...}}, ...]}
// stdout: {"errors": [...]} once every call has been delivered (or has failed).
'use strict';
const { Analytics } = require('@segment/analytics-node');

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', async () => {
  const { host, writeKey, calls, maxEventsInBatch } = JSON.parse(input);
  const analytics = new Analytics({
    writeKey,
    host,
    maxEventsInBatch: maxEventsInBatch || 15,
    flushInterval: 200,
    maxRetries: 1,
  });
  const errors = [];
  analytics.on('error', (err) => errors.push({ code: err.code, reason: String(err.reason || err.message || '') }));
  for (const { method, args } of calls) analytics[method](args);
  await analytics.closeAndFlush({ timeout: 20000 });
  process.stdout.write(JSON.stringify({ errors }));
});
