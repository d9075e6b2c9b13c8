# Tenant values: written by stagesub-bridge into tenants/<subdomain>.tf.

variable "subdomain" {
  description = "The orchestra's subdomain, a DNS label: 3-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen. Changing it replaces the database."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])$", var.subdomain))
    error_message = "The subdomain must be 3-63 characters of lowercase letters (a-z), digits and hyphens, and must start and end with a letter or digit."
  }

  validation {
    # Punycode and other ACE labels ("xn--") use a double hyphen at positions 3-4.
    condition     = !can(regex("^..--", var.subdomain))
    error_message = "The subdomain must not have \"--\" at positions 3-4 (reserved for internationalised domain names such as \"xn--\")."
  }

  validation {
    # The same list as stagesub-bridge's RESERVED_SUBDOMAINS (bridge/src/tenant/validate.rs).
    condition = !contains([
      "www", "api", "admin", "app", "mail", "static", "status", "supabase", "ftp", "smtp", "imap", "pop",
      "root", "dashboard", "auth", "login", "billing", "docs", "help", "support", "blog", "dev", "test",
      "staging", "ns1", "ns2", "localhost", "cdn", "assets", "webhooks", "bridge", "stagesub",
    ], try(var.subdomain, ""))
    error_message = "The subdomain is reserved for stagesub itself (for example www, api, admin, app, mail, static, status, supabase); choose another."
  }
}

variable "orchestra_name" {
  description = "The orchestra's name as the customer typed it: 1-256 characters, no control characters. Updated in place."
  type        = string

  validation {
    condition     = try(length(var.orchestra_name) >= 1 && length(var.orchestra_name) <= 256, false)
    error_message = "The orchestra_name must be 1-256 characters long."
  }

  validation {
    condition     = !can(regex("\\p{Cc}", var.orchestra_name))
    error_message = "The orchestra_name must not contain control characters (newlines, tabs, escape codes)."
  }
}

variable "contact_email" {
  description = "Where stagesub sends the orchestra's mail; null when unknown. Updated in place."
  type        = string
  default     = null

  validation {
    condition     = var.contact_email == null || can(regex("^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:].]+(\\.[^@[:space:][:cntrl:].]+)+$", var.contact_email))
    error_message = "The contact_email must look like name@example.org (one @, a domain with a dot, no spaces)."
  }
}

variable "plan" {
  description = "Tenant label of the customer's subscription: free, pro or enterprise (null: none). Updated in place."
  type        = string
  default     = null

  validation {
    condition     = var.plan == null || try(contains(["free", "pro", "enterprise"], var.plan), false)
    error_message = "The plan must be one of \"free\", \"pro\", \"enterprise\" (or null). To sell another plan, add it to this list in modules/orchestra/variables.tf."
  }
}

variable "region" {
  description = "Supabase region code (e.g. eu-central-1) or smart region group (americas, emea, apac); null uses the provider's default_region. Changing it replaces the database."
  type        = string
  default     = null

  validation {
    condition     = var.region == null || can(regex("^[a-z]+(-[a-z]+-[0-9]+)?$", var.region))
    error_message = "The region must be a region code such as \"eu-central-1\" or a group such as \"americas\", \"emea\", \"apac\" (or null for the provider default)."
  }
}

variable "archived" {
  description = "true pauses the orchestra's database (data is kept, connections are blocked); false restores it. Null means false."
  type        = bool
  default     = false
}

variable "stripe_customer_id" {
  description = "Stripe customer (cus_...) that pays for this orchestra. Recorded for reconciliation; not sent to the database."
  type        = string
  default     = null

  validation {
    condition     = var.stripe_customer_id == null || can(regex("^cus_[A-Za-z0-9]+$", var.stripe_customer_id))
    error_message = "The stripe_customer_id must be a Stripe customer id such as \"cus_NffrFeUfNV2Hib\" (or null)."
  }
}

variable "stripe_subscription_id" {
  description = "Stripe subscription (sub_...) for this orchestra. Recorded for reconciliation; not sent to the database."
  type        = string
  default     = null

  validation {
    condition     = var.stripe_subscription_id == null || can(regex("^sub_[A-Za-z0-9]+$", var.stripe_subscription_id))
    error_message = "The stripe_subscription_id must be a Stripe subscription id such as \"sub_1MowQVLkdIwHu7ixeRlqHVzs\" (or null)."
  }
}

# Pass-through settings with defaults, for root modules that call this module directly.

variable "migrations_dir" {
  description = "Folder of the app's migrations (Prisma or Supabase CLI layout). Null: <root module>/../app/migrations when that folder holds .sql files (the examples/gitops layout), else no migrations."
  type        = string
  default     = null
}

variable "seed_sql" {
  description = "Idempotent SQL run after the migrations; reads tenant values with current_setting('stagesub.orchestra_name') etc. Null: the contents of <root module>/../app/seed.sql when that file exists, else no seed."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "While true, destroying the database fails with an error. Set false (and apply) before removing a tenant for good."
  type        = bool
  default     = true
}

variable "instance_size" {
  description = "Supabase compute size (desired_instance_size, e.g. micro, small, medium); null: the organization's default."
  type        = string
  default     = null
}

variable "allowed_cidrs" {
  description = "Supabase only: CIDR ranges allowed to connect to the database; null: unrestricted."
  type        = list(string)
  default     = null

  validation {
    condition     = try(alltrue([for cidr in var.allowed_cidrs : can(cidrhost(cidr, 0))]), var.allowed_cidrs == null)
    error_message = "Each entry of allowed_cidrs must be a CIDR range such as \"203.0.113.0/24\" or \"2001:db8::/32\"."
  }
}

variable "enforce_ssl" {
  description = "Supabase only: accept only SSL connections to the database; null: the provider's default (true)."
  type        = bool
  default     = null
}
