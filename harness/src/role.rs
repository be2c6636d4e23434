//! Roles: the part each host plays in the target's design (`leader`,
//! `follower`, `primary`, …), as the target itself reports it.
//!
//! Model: a host holds at most one role at a time. The target's host
//! software calls [`set`] when its host takes a role and [`clear`] when it
//! gives it up; the harness clears the role of a host that crashes or is
//! bounced, since the software that held it is gone (the restarted
//! software reports its role again). Setting the role a host already holds
//! changes nothing, so a target may report on every tick.
//!
//! Every change is recorded with its simulated time, in the run's trace
//! (kind `role`, so it is hashed and shown by `--trace`) and in the
//! record's [`RoleTimeline`], which answers "who held `leader` at 4.2 s?"
//! and "when did `n2` stop leading?" after the run. A fault aimed at a role
//! (`host = "role:leader"`) hits the host holding it when the fault fires
//! ([`holders`]); see [`crate::fault`].
//!
//! The state is a thread-local that [`crate::sim::run`] installs for its
//! run (a run is one thread) and removes at its end: outside a harness
//! run — a target's own unit tests on a bare turmoil `Sim` — these calls do
//! nothing.

use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// Default cap on role changes kept per run; later ones are counted, not
/// kept (the trace still has them, within its own limit).
pub const DEFAULT_ROLE_LIMIT: usize = 100_000;

/// One host taking a role, or giving its role up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChange {
    pub time_ns: u64,
    pub host: String,
    /// The role from now on (`None`: no role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The role held until now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// One stretch of time during which a host held a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleSpan {
    pub host: String,
    pub role: String,
    pub start_ns: u64,
    /// `None`: still held when the run ended.
    pub end_ns: Option<u64>,
}

/// Every role change of a run, in the order they happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleTimeline {
    pub changes: Vec<RoleChange>,
    /// Changes beyond the limit, counted but not kept.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RoleTimeline {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.dropped == 0
    }

    /// Appends a change, keeping at most `limit`.
    pub fn push(&mut self, change: RoleChange, limit: usize) {
        if self.changes.len() < limit {
            self.changes.push(change);
        } else {
            self.dropped += 1;
        }
    }

    /// The role `host` held at `time_ns` (changes at that instant count).
    pub fn role_of_at(&self, host: &str, time_ns: u64) -> Option<&str> {
        self.changes
            .iter()
            .take_while(|c| c.time_ns <= time_ns)
            .filter(|c| c.host == host)
            .last()
            .and_then(|c| c.role.as_deref())
    }

    /// The hosts holding `role` at `time_ns`, sorted.
    pub fn holders_at(&self, role: &str, time_ns: u64) -> Vec<String> {
        let mut current: BTreeMap<&str, Option<&str>> = BTreeMap::new();
        for c in self.changes.iter().take_while(|c| c.time_ns <= time_ns) {
            current.insert(&c.host, c.role.as_deref());
        }
        current
            .into_iter()
            .filter(|(_, r)| *r == Some(role))
            .map(|(h, _)| h.to_string())
            .collect()
    }

    /// Every role that was ever held, sorted.
    pub fn roles(&self) -> BTreeSet<&str> {
        self.changes
            .iter()
            .filter_map(|c| c.role.as_deref())
            .collect()
    }

    /// The stretches during which `role` was held, by anyone, in the order
    /// they began.
    pub fn spans(&self, role: &str) -> Vec<RoleSpan> {
        let mut spans: Vec<RoleSpan> = Vec::new();
        let mut open: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &self.changes {
            if let Some(i) = open.remove(c.host.as_str()) {
                spans[i].end_ns = Some(c.time_ns);
            }
            if c.role.as_deref() == Some(role) {
                open.insert(&c.host, spans.len());
                spans.push(RoleSpan {
                    host: c.host.clone(),
                    role: role.to_string(),
                    start_ns: c.time_ns,
                    end_ns: None,
                });
            }
        }
        spans
    }

    /// The first change after `time_ns` that gives some host `role`: e.g.
    /// when a new leader took over after a fault.
    pub fn next_taken(&self, role: &str, time_ns: u64) -> Option<&RoleChange> {
        self.changes
            .iter()
            .find(|c| c.time_ns > time_ns && c.role.as_deref() == Some(role))
    }
}

/// Where the run on this thread records a change (the simulator installs
/// it: it writes the change to the run's trace and timeline).
pub type Sink = fn(&RoleChange);

/// The simulated time of the step being run, for changes made outside any
/// host's software (turmoil knows the time only inside a host).
pub type StepClock = fn() -> u64;

struct RunRoles {
    current: BTreeMap<String, String>,
    sink: Sink,
    clock: StepClock,
}

thread_local! {
    static ROLES: RefCell<Option<RunRoles>> = const { RefCell::new(None) };
}

/// Starts a run on this thread: no host holds a role yet.
pub(crate) fn install(sink: Sink, clock: StepClock) {
    ROLES.with(|r| {
        *r.borrow_mut() = Some(RunRoles {
            current: BTreeMap::new(),
            sink,
            clock,
        })
    });
}

/// Ends the run on this thread: role calls do nothing any more.
pub(crate) fn uninstall() {
    ROLES.with(|r| *r.borrow_mut() = None);
}

/// Reports that `host` now holds `role` (replacing any role it held).
/// Call it from the host's own software; outside a run it does nothing.
pub fn set(host: &str, role: &str) {
    change(host, Some(role), None);
}

/// Reports that `host` holds no role any more.
pub fn clear(host: &str) {
    change(host, None, None);
}

/// The role `host` holds now (`None` outside a run).
pub fn current(host: &str) -> Option<String> {
    ROLES.with(|r| r.borrow().as_ref()?.current.get(host).cloned())
}

/// The hosts holding `role` now, sorted by name.
pub fn holders(role: &str) -> Vec<String> {
    ROLES.with(|r| {
        r.borrow().as_ref().map_or_else(Vec::new, |run| {
            run.current
                .iter()
                .filter(|(_, held)| *held == role)
                .map(|(host, _)| host.clone())
                .collect()
        })
    })
}

/// The harness's own change at a known simulated time: a crashed or
/// bounced host loses its role.
pub(crate) fn host_gone(host: &str, time_ns: u64) {
    change(host, None, Some(time_ns));
}

/// Applies a change and hands it to the sink, outside the borrow (the sink
/// writes to the run log, which is another thread-local).
fn change(host: &str, role: Option<&str>, time_ns: Option<u64>) {
    let recorded = ROLES.with(|r| {
        let mut r = r.borrow_mut();
        let run = r.as_mut()?;
        let previous = match role {
            Some(role) if run.current.get(host).map(String::as_str) == Some(role) => return None,
            Some(role) => run.current.insert(host.to_string(), role.to_string()),
            None => run.current.remove(host),
        };
        if role.is_none() && previous.is_none() {
            return None;
        }
        let time_ns = time_ns
            .or_else(|| turmoil::sim_elapsed().map(|d| d.as_nanos() as u64))
            .unwrap_or_else(run.clock);
        Some((
            run.sink,
            RoleChange {
                time_ns,
                host: host.to_string(),
                role: role.map(str::to_string),
                previous,
            },
        ))
    });
    if let Some((sink, change)) = recorded {
        sink(&change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        static SEEN: RefCell<Vec<RoleChange>> = const { RefCell::new(Vec::new()) };
    }

    fn remember(change: &RoleChange) {
        SEEN.with(|s| s.borrow_mut().push(change.clone()));
    }

    fn at(time_ns: u64, host: &str, role: Option<&str>) -> RoleChange {
        RoleChange {
            time_ns,
            host: host.into(),
            role: role.map(str::to_string),
            previous: None,
        }
    }

    #[test]
    fn changes_reach_the_sink_only_inside_a_run_and_only_when_they_change_something() {
        set("n1", "leader");
        assert!(holders("leader").is_empty(), "no run, no roles");
        install(remember, || 1);
        set("n1", "follower");
        change("n1", Some("follower"), Some(2));
        change("n2", Some("leader"), Some(3));
        change("n1", Some("leader"), Some(4));
        assert_eq!(holders("leader"), vec!["n1".to_string(), "n2".to_string()]);
        host_gone("n2", 5);
        host_gone("n2", 6);
        assert_eq!(current("n2"), None);
        assert_eq!(holders("leader"), vec!["n1".to_string()]);
        uninstall();
        let seen = SEEN.with(|s| s.take());
        let summary: Vec<(u64, &str, Option<&str>, Option<&str>)> = seen
            .iter()
            .map(|c| {
                (
                    c.time_ns,
                    c.host.as_str(),
                    c.role.as_deref(),
                    c.previous.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, "n1", Some("follower"), None),
                (3, "n2", Some("leader"), None),
                (4, "n1", Some("leader"), Some("follower")),
                (5, "n2", None, Some("leader")),
            ]
        );
    }

    #[test]
    fn the_timeline_answers_who_held_what_when() {
        let mut timeline = RoleTimeline::default();
        for c in [
            at(10, "n1", Some("leader")),
            at(10, "n2", Some("follower")),
            at(50, "n1", None),
            at(70, "n2", Some("leader")),
        ] {
            timeline.push(c, DEFAULT_ROLE_LIMIT);
        }
        assert_eq!(timeline.holders_at("leader", 9), Vec::<String>::new());
        assert_eq!(timeline.holders_at("leader", 10), vec!["n1".to_string()]);
        assert_eq!(timeline.holders_at("leader", 60), Vec::<String>::new());
        assert_eq!(timeline.role_of_at("n2", 69), Some("follower"));
        assert_eq!(timeline.role_of_at("n2", 70), Some("leader"));
        assert_eq!(timeline.next_taken("leader", 50).unwrap().host, "n2");
        let spans = timeline.spans("leader");
        assert_eq!(spans.len(), 2);
        assert_eq!((spans[0].start_ns, spans[0].end_ns), (10, Some(50)));
        assert_eq!((spans[1].host.as_str(), spans[1].end_ns), ("n2", None));
        assert_eq!(
            timeline.roles().into_iter().collect::<Vec<_>>(),
            vec!["follower", "leader"]
        );
    }

    #[test]
    fn the_timeline_keeps_at_most_its_limit() {
        let mut timeline = RoleTimeline::default();
        for t in 0..5 {
            timeline.push(at(t, "n1", Some("leader")), 3);
        }
        assert_eq!((timeline.changes.len(), timeline.dropped), (3, 2));
    }
}
