variable "subdomain" {
  description = "The orchestra's subdomain; also names its database."
  type        = string
  default     = "quickstart-phil"
}

variable "orchestra_name" {
  description = "The orchestra's name, as a customer would type it."
  type        = string
  default     = "Quickstart Philharmonic"
}

variable "contact_email" {
  description = "Contact address stored by the seed."
  type        = string
  default     = "office@quickstart-phil.example"
}
