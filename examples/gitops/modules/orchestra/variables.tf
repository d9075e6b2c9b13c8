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
    # stagesub-tenant's RESERVED_SUBDOMAINS (tenant/src/lists.rs).
    condition = !contains([
      "www", "api", "admin", "app", "mail", "static", "status", "supabase", "ftp", "smtp", "imap", "pop",
      "root", "dashboard", "auth", "login", "billing", "docs", "help", "support", "blog", "dev", "test",
      "staging", "ns1", "ns2", "localhost", "cdn", "assets", "webhooks", "bridge", "stagesub",
    ], try(var.subdomain, ""))
    error_message = "The subdomain is reserved for stagesub itself (for example www, api, admin, app, mail, static, status, supabase); choose another."
  }
}

variable "orchestra_name" {
  description = "The orchestra's name as the customer typed it: 1-256 characters, not blank, no control, format (bidi, zero-width), separator, private-use or noncharacter code points. Updated in place."
  type        = string

  validation {
    condition     = can(regex("^(?s).{1,256}$", var.orchestra_name))
    error_message = "The orchestra_name must be 1-256 characters long."
  }

  validation {
    condition     = try(trimspace(var.orchestra_name) != "", false)
    error_message = "The orchestra_name must not be blank."
  }

  validation {
    # The ranges of stagesub-tenant's chars::REFUSED (tenant/src/chars.rs); tenant/tests/module_rules.rs
    # keeps them equal and runs both rules over one table of values.
    condition     = !can(regex("[\\x{0}-\\x{1F}\\x{7F}-\\x{9F}\\x{AD}\\x{34F}\\x{600}-\\x{605}\\x{61C}\\x{6DD}\\x{70F}\\x{890}-\\x{891}\\x{8E2}\\x{115F}-\\x{1160}\\x{17B4}-\\x{17B5}\\x{180E}\\x{200B}-\\x{200F}\\x{2028}\\x{2029}\\x{202A}-\\x{202E}\\x{2060}-\\x{206F}\\x{3164}\\x{E000}-\\x{F8FF}\\x{FDD0}-\\x{FDEF}\\x{FEFF}\\x{FFA0}\\x{FFF0}-\\x{FFFB}\\x{FFFE}-\\x{FFFF}\\x{110BD}\\x{110CD}\\x{13430}-\\x{1343F}\\x{1BCA0}-\\x{1BCA3}\\x{1D173}-\\x{1D17A}\\x{1FFFE}-\\x{1FFFF}\\x{2FFFE}-\\x{2FFFF}\\x{3FFFE}-\\x{3FFFF}\\x{4FFFE}-\\x{4FFFF}\\x{5FFFE}-\\x{5FFFF}\\x{6FFFE}-\\x{6FFFF}\\x{7FFFE}-\\x{7FFFF}\\x{8FFFE}-\\x{8FFFF}\\x{9FFFE}-\\x{9FFFF}\\x{AFFFE}-\\x{AFFFF}\\x{BFFFE}-\\x{BFFFF}\\x{CFFFE}-\\x{CFFFF}\\x{DFFFE}-\\x{DFFFF}\\x{E0000}-\\x{E00FF}\\x{EFFFE}-\\x{EFFFF}\\x{F0000}-\\x{FFFFD}\\x{FFFFE}-\\x{FFFFF}\\x{100000}-\\x{10FFFD}\\x{10FFFE}-\\x{10FFFF}]", var.orchestra_name))
    error_message = "The orchestra_name must not contain control characters, format characters (bidi controls such as U+202E, zero-width characters, U+FEFF), line or paragraph separators, private-use characters, noncharacters or invisible fillers."
  }
}

variable "contact_email" {
  description = "Where stagesub sends the orchestra's mail; null when unknown. At most 254 characters: name@domain.tld. Updated in place."
  type        = string
  default     = null

  validation {
    condition     = var.contact_email == null || can(regex("^(?s).{1,254}$", var.contact_email))
    error_message = "The contact_email must be at most 254 characters long."
  }

  validation {
    # White space as Unicode's White_Space property.
    condition     = var.contact_email == null || can(regex("^[^@\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}-\\x{2029}\\x{202F}\\x{205F}\\x{3000}]+@[^@.\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}-\\x{2029}\\x{202F}\\x{205F}\\x{3000}]+(\\.[^@.\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}-\\x{2029}\\x{202F}\\x{205F}\\x{3000}]+)+$", var.contact_email))
    error_message = "The contact_email must look like name@example.org (one @, a domain with a dot, no spaces)."
  }

  validation {
    condition     = var.contact_email == null || !can(regex("[\\x{0}-\\x{1F}\\x{7F}-\\x{9F}\\x{AD}\\x{34F}\\x{600}-\\x{605}\\x{61C}\\x{6DD}\\x{70F}\\x{890}-\\x{891}\\x{8E2}\\x{115F}-\\x{1160}\\x{17B4}-\\x{17B5}\\x{180E}\\x{200B}-\\x{200F}\\x{2028}\\x{2029}\\x{202A}-\\x{202E}\\x{2060}-\\x{206F}\\x{3164}\\x{E000}-\\x{F8FF}\\x{FDD0}-\\x{FDEF}\\x{FEFF}\\x{FFA0}\\x{FFF0}-\\x{FFFB}\\x{FFFE}-\\x{FFFF}\\x{110BD}\\x{110CD}\\x{13430}-\\x{1343F}\\x{1BCA0}-\\x{1BCA3}\\x{1D173}-\\x{1D17A}\\x{1FFFE}-\\x{1FFFF}\\x{2FFFE}-\\x{2FFFF}\\x{3FFFE}-\\x{3FFFF}\\x{4FFFE}-\\x{4FFFF}\\x{5FFFE}-\\x{5FFFF}\\x{6FFFE}-\\x{6FFFF}\\x{7FFFE}-\\x{7FFFF}\\x{8FFFE}-\\x{8FFFF}\\x{9FFFE}-\\x{9FFFF}\\x{AFFFE}-\\x{AFFFF}\\x{BFFFE}-\\x{BFFFF}\\x{CFFFE}-\\x{CFFFF}\\x{DFFFE}-\\x{DFFFF}\\x{E0000}-\\x{E00FF}\\x{EFFFE}-\\x{EFFFF}\\x{F0000}-\\x{FFFFD}\\x{FFFFE}-\\x{FFFFF}\\x{100000}-\\x{10FFFD}\\x{10FFFE}-\\x{10FFFF}]", var.contact_email))
    error_message = "The contact_email must not contain control characters, format characters (bidi controls, zero-width characters), separators, private-use characters, noncharacters or invisible fillers."
  }
}

variable "plan" {
  description = "Tenant label of the customer's subscription: free, pro or enterprise (null: none). Updated in place."
  type        = string
  default     = null

  validation {
    # stagesub-tenant's ALLOWED_PLANS.
    condition     = var.plan == null || try(contains(["free", "pro", "enterprise"], var.plan), false)
    error_message = "The plan must be one of \"free\", \"pro\", \"enterprise\" (or null). To sell another plan, add it here and to ALLOWED_PLANS in tenant/src/lists.rs."
  }
}

variable "region" {
  description = "Supabase region code (e.g. eu-central-1) or smart region group (americas, emea, apac); null uses the provider's default_region. Changing it replaces the database."
  type        = string
  default     = null

  validation {
    # stagesub-tenant's SUPABASE_REGIONS and SMART_REGION_GROUPS.
    condition = var.region == null || try(contains([
      "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1", "eu-west-2",
      "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
      "ap-northeast-1", "ap-northeast-2", "ap-east-1", "americas", "emea", "apac",
    ], var.region), false)
    error_message = "The region must be a region code such as \"eu-central-1\" or a group such as \"americas\", \"emea\", \"apac\" (or null for the provider default)."
  }
}

variable "archived" {
  description = "true archives the orchestra as archive_mode says (data is kept); false restores it. Null means false."
  type        = bool
  default     = false
}

variable "archive_mode" {
  description = "How archived = true archives: \"backup\" (a verified pg_dump in the provider's backup_url, then the database is deleted; works on paid Supabase organizations) or \"pause\" (pause the project / block connections; free Supabase organizations and the postgres backend only)."
  type        = string
  default     = "backup"

  validation {
    condition     = contains(["backup", "pause"], var.archive_mode)
    error_message = "The archive_mode must be \"backup\" or \"pause\"."
  }
}

variable "backup_retention_days" {
  description = "Days this orchestra's backups are kept at least; the provider never deletes a younger one (the object store's lifecycle rule expires older ones)."
  type        = number
  default     = 365
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
  description = "Folder of the app's migrations (Prisma or Supabase CLI layout). Null: <app>/migrations when that folder holds .sql files, where <app> is <root module>/../app if it holds migrations or seed.sql, else <root module>/../../app (the examples/gitops layouts: one root for all tenants, or tenants/<subdomain>/ per tenant), else no migrations."
  type        = string
  default     = null
}

variable "seed_sql" {
  description = "Idempotent SQL run after the migrations; reads tenant values with current_setting('stagesub.orchestra_name') etc. Null: the contents of <app>/seed.sql when that file exists, else no seed."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "While true, destroying the database fails with an error. Set false (and apply) before removing a tenant for good."
  type        = bool
  default     = true
}

variable "instance_size" {
  description = "Supabase compute size (e.g. micro, small, medium); a change resizes the project in place (a restart, data kept); null: the organization's default, not managed."
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
