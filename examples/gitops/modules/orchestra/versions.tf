terraform {
  # Validation blocks that reference only their own variable, can() and try()
  # all work on Terraform 1.0, the oldest release stagesub supports.
  required_version = ">= 1.0"

  required_providers {
    stagesub = {
      source  = "stagesub/stagesub"
      version = ">= 0.1.0"
    }
  }
}
