//! Typed grants: the only handles through which a staff use case can be called (issue 13 item 1).
//!
//! A use case names the duty it performs in its signature (`&Grant<'_, Review>`); only
//! [`Actor::grant`] makes one, and only when the actor holds one of the duty's roles somewhere.
//! The grant carries the sites where it holds, so the use case checks the record's site against
//! the grant it was given (`grant.covers(doc.site_id)`), never against a bare actor. lldap's
//! `get_admin_handler` is the model: the check returns the only handle to the operations.

use std::marker::PhantomData;

use super::{Actor, Role};

/// A kind of work staff do, and the roles that may do it. Each is a marker type.
pub trait Duty {
    /// The roles that may perform this duty (at the sites their grants name).
    const ROLES: &'static [Role];
}

macro_rules! duties {
    ($($(#[$doc:meta])* $name:ident => [$($role:ident),+];)+) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Duty for $name {
                const ROLES: &'static [Role] = &[$(Role::$role),+];
            }
        )+
    };
}

duties! {
    /// 受理: taking in an application at a window (photo, face check, checks, acceptance).
    Intake => [Officer];
    /// Reading a dossier at a window: the officer, the cashier who charges it, the duty leader.
    ReadDossier => [Officer, Cashier, Leader];
    /// Serving at a window: opening, calling, serving and closing it.
    ServeWindow => [Officer, Cashier, Custodian, Leader];
    /// 导办: issuing tickets at the guide desk.
    GuideDesk => [Guide, Officer, Leader];
    /// 收费: charging a fee and refunding it.
    Collect => [Cashier, Officer];
    /// Reconciling a day's payments.
    Reconcile => [Cashier, Leader, Admin];
    /// 审批: reviewing an application.
    Review => [Approver];
    /// 制证: producing documents.
    Produce => [Producer];
    /// 证件保管: receiving, storing and moving documents in custody; express dispatch.
    Keep => [Custodian];
    /// 发证: handing a document over (pickup) or reporting an error in it.
    HandOver => [Custodian, Officer];
    /// Watching custody: the inventory, overdue documents and the error register.
    OverseeCustody => [Custodian, Leader];
    /// The booking desk: day lists, check-in help and waiting lists.
    BookingDesk => [Officer, Guide, Leader, Admin];
    /// Lifting a citizen's no-show block.
    LiftBlock => [Leader, Officer, Admin];
    /// 带班领导: the duty leader's overview, rating cases and complaints.
    Lead => [Leader];
    /// Registering complaints that come by hotline, the box or at a window.
    TakeComplaints => [Officer, Guide, Leader, Admin];
    /// 每日回访: working through the day's callback list.
    MakeCallbacks => [Guide, Leader];
}

/// Proof that an actor holds duty `D` at [`Grant::sites`]. Fields are private: only
/// [`Actor::grant`] makes one.
#[derive(Debug, Clone)]
pub struct Grant<'a, D: Duty> {
    actor: &'a Actor,
    /// `None`: every site.
    sites: Option<Vec<i64>>,
    duty: PhantomData<D>,
}

impl<D: Duty> Grant<'_, D> {
    /// Who holds the grant: for the audit trail and for "is this my window" checks.
    pub fn actor(&self) -> &Actor {
        self.actor
    }

    /// Whether the grant holds at `site_id`.
    pub fn covers(&self, site_id: i64) -> bool {
        self.sites.as_ref().is_none_or(|s| s.contains(&site_id))
    }

    /// The sites where the grant holds; `None` means every site.
    pub fn sites(&self) -> Option<&[i64]> {
        self.sites.as_deref()
    }
}

impl Actor {
    /// The actor's grant for duty `D`, if any of its roles is held at any site.
    pub fn grant<D: Duty>(&self) -> Option<Grant<'_, D>> {
        let mut sites = Vec::new();
        for g in self.grants.iter().filter(|g| D::ROLES.contains(&g.role)) {
            match g.site_id {
                None => {
                    return Some(Grant {
                        actor: self,
                        sites: None,
                        duty: PhantomData,
                    });
                }
                Some(s) => sites.push(s),
            }
        }
        (!sites.is_empty()).then_some(Grant {
            actor: self,
            sites: Some(sites),
            duty: PhantomData,
        })
    }

    /// The grant for duty `D`, or the capability's own refusal when the actor has none.
    pub fn grant_or<D: Duty, E>(
        &self,
        refusal: E,
    ) -> Result<Grant<'_, D>, crate::error::Failure<E>> {
        self.grant::<D>()
            .ok_or(crate::error::Failure::Refused(refusal))
    }

    /// Whether the actor may perform duty `D` at `site_id`.
    pub fn may<D: Duty>(&self, site_id: i64) -> bool {
        self.grant::<D>().is_some_and(|g| g.covers(site_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{RequestMeta, RoleGrant};

    fn actor(grants: Vec<RoleGrant>) -> Actor {
        Actor {
            staff_id: 7,
            username: "t".into(),
            display_name: "t".into(),
            badge_no: "1".into(),
            grants,
            must_change_password: false,
            meta: RequestMeta::default(),
        }
    }

    #[test]
    fn a_grant_holds_only_where_a_role_of_the_duty_is_held() {
        let cashier = actor(vec![RoleGrant {
            role: Role::Cashier,
            site_id: Some(2),
        }]);
        let collect = cashier.grant::<Collect>().expect("cashiers collect");
        assert!(collect.covers(2) && !collect.covers(3));
        assert_eq!(collect.sites(), Some(&[2][..]));
        assert!(cashier.grant::<Review>().is_none());
        assert!(cashier.may::<ServeWindow>(2) && !cashier.may::<ServeWindow>(3));

        let leader = actor(vec![RoleGrant {
            role: Role::Leader,
            site_id: None,
        }]);
        assert!(
            leader
                .grant::<OverseeCustody>()
                .is_some_and(|g| g.covers(99))
        );
        assert!(leader.grant::<Keep>().is_none());
    }
}
