// Sends a test-mode `checkout.session.completed` event to stagesub-bridge, signed the way Stripe signs
// webhook deliveries (Stripe's official Node library, stripe.webhooks.generateTestHeaderString).
//
//   STRIPE_WEBHOOK_SECRET=whsec_... node send-event.js URL SUBDOMAIN ORCHESTRA_NAME CONTACT_EMAIL PLAN
//
// The event is scripts/demo/checkout.session.completed.json (a real test-mode event) with a fresh event
// id, the current time, the tenant values in the session's metadata, and a customer and subscription id
// derived from the subdomain (so that re-running for the same orchestra is the same customer).
// The secret comes from the environment so that it never shows in a process list.
// Prints one JSON line: {"event_id", "status", "body"}; exits 1 unless the bridge answered 2xx.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const tools = process.env.STAGESUB_TOOLS_DIR || path.join(__dirname, '..', '..', '.tools');
let Stripe;
try {
  Stripe = require(path.join(tools, 'node', 'node_modules', 'stripe'));
} catch (e) {
  console.error(`send-event: npm package stripe not found under ${tools}/node: run scripts/setup-tools.sh`);
  process.exit(2);
}

const [url, subdomain, orchestraName, contactEmail, plan] = process.argv.slice(2);
const secret = process.env.STRIPE_WEBHOOK_SECRET;
if (!url || !subdomain || !orchestraName || !contactEmail || !plan || !secret) {
  console.error('usage: STRIPE_WEBHOOK_SECRET=whsec_... node send-event.js URL SUBDOMAIN ORCHESTRA_NAME CONTACT_EMAIL PLAN');
  process.exit(2);
}

const event = JSON.parse(fs.readFileSync(path.join(__dirname, 'checkout.session.completed.json'), 'utf8'));
const now = Math.floor(Date.now() / 1000);
const random = (n) => crypto.randomBytes(n).toString('hex');
// Stable per orchestra: the same subdomain is the same Stripe customer on every run.
const stable = crypto.createHash('sha256').update(subdomain).digest('hex').slice(0, 14);

event.id = `evt_demo${random(10)}`;
event.created = now;
event.livemode = false;
event.request = { id: `req_demo${random(7)}`, idempotency_key: null };
const session = event.data.object;
session.id = `cs_test_demo${random(16)}`;
session.created = now - 60;
session.expires_at = now + 86400;
session.livemode = false;
session.mode = 'subscription';
session.status = 'complete';
session.payment_status = 'paid';
session.customer = `cus_demo${stable}`;
session.subscription = `sub_demo${stable}`;
session.invoice = `in_demo${random(8)}`;
session.payment_intent = null;
session.customer_email = contactEmail;
session.customer_details = { ...session.customer_details, email: contactEmail, name: orchestraName };
session.metadata = { subdomain, orchestra_name: orchestraName, plan };

const payload = JSON.stringify(event, null, 2);
const stripe = Stripe('sk_test_offline_demo');
const signature = stripe.webhooks.generateTestHeaderString({ payload, secret });

(async () => {
  let res;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Stripe-Signature': signature, 'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
      body: payload,
    });
  } catch (e) {
    console.error(`send-event: cannot reach ${url}: ${e.cause ? e.cause.message : e.message}`);
    process.exit(1);
  }
  const body = await res.text();
  console.log(JSON.stringify({ event_id: event.id, status: res.status, body: body.slice(0, 500) }));
  process.exit(res.ok ? 0 : 1);
})();
