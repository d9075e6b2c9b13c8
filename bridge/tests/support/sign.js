// Signs webhook payloads with Stripe's official Node library, as Stripe would deliver them.
// stdin: {"secret": "whsec_…", "payloads": ["…", …], "timestamp": <unix, optional>}
// stdout: ["t=…,v1=…", …]
const path = require('path');
const tools = process.env.STAGESUB_TOOLS_DIR || path.join(__dirname, '..', '..', '..', '.tools');
const stripe = require(path.join(tools, 'node', 'node_modules', 'stripe'))('sk_test_offline');
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const { secret, payloads, timestamp } = JSON.parse(input);
  const headers = payloads.map((payload) =>
    stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) }),
  );
  process.stdout.write(JSON.stringify(headers));
});
