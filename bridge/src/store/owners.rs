//! The admin's explicit link of a guest tenant to a Stripe customer.
//!
//! Events never change a tenant's owner (see [`Identity`]). When a guest later becomes a Stripe
//! customer, an admin links the tenant with [`link_owner`] (the `stagesub-bridge` command calls it):
//! afterwards that customer's checkouts and subscriptions count as the owner's. Every link is recorded
//! in `owner_links` with who made it and when; linking again to the same customer changes nothing.

use super::{JobKind, Store, enqueue, load_tenant, lock_tenant};
use crate::error::Error;
use crate::tenant::Identity;

/// What [`link_owner`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The tenant now belongs to the customer; `previous` describes the guest owner it had.
    Linked {
        /// The former owner, as the admin email would name it.
        previous: String,
    },
    /// The tenant already belonged to that customer: nothing written.
    AlreadyLinked,
}

fn check_customer_id(customer_id: &str) -> Result<(), Error> {
    let ok = customer_id.len() <= 255
        && customer_id.strip_prefix("cus_").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "customer id {customer_id:?} is not a Stripe customer id (cus_ followed by letters and digits)"
        )))
    }
}

/// Links the guest tenant `subdomain` to the Stripe customer `customer_id`, recording `linked_by` (who
/// asks: an admin's name or email) and the time. Idempotent: linking to the customer that already owns
/// the tenant returns [`LinkOutcome::AlreadyLinked`] and writes nothing. The tenant file is republished
/// with the customer id.
///
/// Errors: [`Error::BadRequest`] for a malformed customer id or an empty `linked_by`,
/// [`Error::NotFound`] for an unknown subdomain, [`Error::Conflict`] when another customer owns the
/// tenant (an owner is never replaced), [`Error::Store`] when the database fails (nothing written).
pub async fn link_owner(
    store: &Store,
    subdomain: &str,
    customer_id: &str,
    linked_by: &str,
) -> Result<LinkOutcome, Error> {
    check_customer_id(customer_id)?;
    if linked_by.trim().is_empty() || linked_by.chars().any(char::is_control) {
        return Err(Error::BadRequest(
            "say who links the tenant (a name or email without control characters)".into(),
        ));
    }
    let not_found = || Error::NotFound(format!("no tenant with subdomain {subdomain:?}"));
    if subdomain.contains('\0') {
        return Err(not_found());
    }
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    lock_tenant(&*tx, subdomain).await?;
    let tenant = load_tenant(&*tx, subdomain).await?.ok_or_else(not_found)?;
    let previous: Identity = tenant.owner;
    match previous.customer.as_deref() {
        Some(owner) if owner == customer_id => return Ok(LinkOutcome::AlreadyLinked),
        Some(owner) => {
            return Err(Error::Conflict(format!(
                "tenant {subdomain} belongs to customer {owner}; an owner is never replaced"
            )));
        }
        None => {}
    }
    tx.execute(
        "UPDATE tenants SET owner_customer_id = $2, stripe_customer_id = $2, updated_at = now()
         WHERE subdomain = $1",
        &[&subdomain, &customer_id],
    )
    .await?;
    tx.execute(
        "INSERT INTO owner_links (subdomain, customer_id, previous_customer_id, previous_email,
                                  previous_session_id, linked_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &subdomain,
            &customer_id,
            &previous.customer,
            &previous.email,
            &previous.session,
            &linked_by.trim(),
        ],
    )
    .await?;
    enqueue(&*tx, JobKind::Publish, subdomain).await?;
    tx.commit().await?;
    tracing::info!(
        subdomain,
        customer = customer_id,
        linked_by,
        "guest tenant linked to a customer"
    );
    Ok(LinkOutcome::Linked {
        previous: previous.to_string(),
    })
}
