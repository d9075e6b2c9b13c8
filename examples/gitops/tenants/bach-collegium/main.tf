# Managed by stagesub-bridge: changes come from Stripe, edits here are overwritten.
# Stripe event evt_1QF3ZyLkdIwHu7ixAbCdEf12, checkout session cs_test_a1B2c3D4e5F6g7H8i9J0
module "orchestra-bach-collegium" {
  source                 = "../../modules/orchestra"
  subdomain              = "bach-collegium"
  orchestra_name         = "Bach Collegium"
  contact_email          = "office@bach-collegium.example"
  plan                   = "pro"
  region                 = null
  archived               = false
  stripe_customer_id     = "cus_QmE8ifJ0lP1rXh"
  stripe_subscription_id = "sub_1PvY3nLkdIwHu7ix4yhHXr9g"
}
