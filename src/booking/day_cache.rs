//! The day cache: a short-lived copy of each day's slots so availability reads cost a look-up (R2, decision 005).

use super::*;

/// One day's slots as last read, for availability.
pub struct CachedDay {
    pub(super) at: i64,
    pub(super) settings: SlotSettings,
    pub(super) closure: Option<(String, String)>,
    pub(super) slots: Vec<SlotRow>,
}

/// A short-lived in-memory copy of each day's slots, so an availability read costs a hash
/// look-up instead of four queries (a release morning is mostly reads). Bookings stay
/// authoritative — the conditional UPDATE decides — so a copy can only ever be briefly
/// optimistic: every local change drops it at once, and it expires after `ttl_ms`, which bounds
/// how long another node's bookings take to show.
pub struct DayCache {
    pub(super) ttl_ms: i64,
    pub(super) days: std::sync::Mutex<
        std::collections::HashMap<(i64, String, String), std::sync::Arc<CachedDay>>,
    >,
    /// What a booking needs to know about a slot and never changes with bookings: the slot's
    /// day and time, its line's settings and any closure, with when they were read. Bookings
    /// do not drop these (only settings, capacity and closure changes do, through `clear`).
    pub(super) slots: std::sync::Mutex<std::collections::HashMap<i64, SlotFacts>>,
    /// Sites as last read (by id), so neither availability nor a booking asks the database
    /// for a site every time; a change to a site shows within `ttl_ms`.
    pub(super) sites: std::sync::Mutex<std::collections::HashMap<i64, (i64, std::sync::Arc<Site>)>>,
}

/// A slot's fixed facts as a booking needs them (see [`DayCache`]).
#[derive(Clone)]
pub struct SlotFacts {
    pub(super) at: i64,
    pub slot: SlotRow,
    pub settings: SlotSettings,
    pub closure: Option<(String, String)>,
}

impl DayCache {
    pub fn new(ttl_ms: i64) -> DayCache {
        DayCache {
            ttl_ms,
            days: std::sync::Mutex::new(std::collections::HashMap::new()),
            slots: std::sync::Mutex::new(std::collections::HashMap::new()),
            sites: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    pub(super) fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<(i64, String, String), std::sync::Arc<CachedDay>>,
    > {
        // A panic while holding the lock leaves only a cache behind: keep using it.
        self.days
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn get(
        &self,
        site: i64,
        line: &str,
        date: &str,
        now: i64,
    ) -> Option<std::sync::Arc<CachedDay>> {
        let days = self.lock();
        days.get(&(site, line.to_string(), date.to_string()))
            .filter(|d| now - d.at < self.ttl_ms && now >= d.at)
            .cloned()
    }

    pub(super) fn put(
        &self,
        site: i64,
        line: &str,
        date: &str,
        day: CachedDay,
    ) -> std::sync::Arc<CachedDay> {
        let day = std::sync::Arc::new(day);
        {
            let mut slots = self
                .slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if slots.len() > 200_000 {
                slots.clear();
            }
            for s in &day.slots {
                slots.insert(
                    s.id,
                    SlotFacts {
                        at: day.at,
                        slot: s.clone(),
                        settings: day.settings.clone(),
                        closure: day.closure.clone(),
                    },
                );
            }
        }
        let mut days = self.lock();
        // Days are few (sites × lines × the booking window); past ones are dropped as they go.
        if days.len() > 10_000 {
            days.clear();
        }
        days.insert((site, line.to_string(), date.to_string()), day.clone());
        day
    }

    /// Drops one day's copy (after a booking, cancellation or release on it).
    pub fn invalidate(&self, site: i64, line: &str, date: &str) {
        self.lock()
            .remove(&(site, line.to_string(), date.to_string()));
    }

    /// Counts a committed booking in the day's copy, if there is one, instead of dropping it:
    /// on a release morning every booking would otherwise send the next reads to the database.
    /// The copy stays exact for this node's changes; other nodes' show when it expires.
    pub fn took_place(&self, site: i64, line: &str, date: &str, slot_id: i64, pool: Pool) {
        let mut days = self.lock();
        let key = (site, line.to_string(), date.to_string());
        let Some(day) = days.get(&key) else {
            return;
        };
        let mut slots = day.slots.clone();
        if let Some(s) = slots.iter_mut().find(|s| s.id == slot_id) {
            match pool {
                Pool::Online => s.booked_online += 1,
                Pool::Phone => s.booked_phone += 1,
                Pool::OnSite => s.booked_onsite += 1,
            }
        }
        let updated = CachedDay {
            at: day.at,
            settings: day.settings.clone(),
            closure: day.closure.clone(),
            slots,
        };
        days.insert(key, std::sync::Arc::new(updated));
    }

    /// Drops every copy (after settings, capacity or closure changes).
    pub fn clear(&self) {
        self.lock().clear();
        self.sites
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// A site by id: the copy if read within its lifetime, else from the database.
    pub async fn site(
        &self,
        db: &Db,
        id: i64,
        now: i64,
    ) -> Result<Option<std::sync::Arc<Site>>, sqlx::Error> {
        let sites = || {
            self.sites
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((at, site)) = sites().get(&id)
            && now - at < self.ttl_ms
            && now >= *at
        {
            return Ok(Some(site.clone()));
        }
        let Some(site) = sites::site(db.reader(), id).await? else {
            return Ok(None);
        };
        let site = std::sync::Arc::new(site);
        sites().insert(id, (now, site.clone()));
        Ok(Some(site))
    }

    /// A site by its code, through the same copy.
    pub async fn site_by_code(
        &self,
        db: &Db,
        code: &str,
        now: i64,
    ) -> Result<Option<std::sync::Arc<Site>>, sqlx::Error> {
        let found = self
            .sites
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .find(|(at, s)| s.code == code && now - at < self.ttl_ms && now >= *at)
            .map(|(_, s)| s.clone());
        if let Some(site) = found {
            return Ok(Some(site));
        }
        match sites::site_by_code(db.reader(), code).await? {
            Some(site) => self.site(db, site.id, now).await,
            None => Ok(None),
        }
    }

    /// A slot's fixed facts, if read within the copy's lifetime.
    pub fn slot(&self, id: i64, now: i64) -> Option<SlotFacts> {
        let slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slots
            .get(&id)
            .filter(|f| now - f.at < self.ttl_ms && now >= f.at)
            .cloned()
    }
}
