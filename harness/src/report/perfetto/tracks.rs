//! The tracks of a Perfetto export and what goes on each, built from the
//! run record alone.
//!
//! A Chrome trace-event track is a (pid, tid) pair; slices on one track
//! must nest, so overlapping slices (two faults at once, an operation
//! that never ended) are spread over lanes: a slice goes on the first lane
//! of its track whose last slice ended by the time it begins, and a new
//! lane is opened only when none has. Lanes are chosen in a fixed order
//! from sorted input, so the same run always gets the same tracks.

use crate::history::Outcome;

/// Processes, which Perfetto shows as groups of tracks, in display order.
pub(super) const PID_NEMESIS: u64 = 1;
pub(super) const PID_SERVERS: u64 = 2;
pub(super) const PID_CLIENTS: u64 = 3;
pub(super) const PID_OTHER: u64 = 4;

pub(super) const PROCESS_NAMES: [(u64, &str); 4] = [
    (PID_NEMESIS, "nemesis"),
    (PID_SERVERS, "servers"),
    (PID_CLIENTS, "clients"),
    (PID_OTHER, "other"),
];

/// One slice: a span of simulated time with a name, a category, a colour
/// hint and its arguments.
#[derive(Clone, Debug)]
pub(super) struct Slice {
    pub name: String,
    pub cat: &'static str,
    /// A catapult colour name: chrome://tracing honours it; Perfetto
    /// colours by name instead, which is why names start with the outcome.
    pub cname: Option<&'static str>,
    pub start_ns: u64,
    pub end_ns: u64,
    pub args: serde_json::Map<String, serde_json::Value>,
}

/// One instant: a point in simulated time.
#[derive(Clone, Debug)]
pub(super) struct Instant {
    pub name: String,
    pub cat: &'static str,
    pub time_ns: u64,
    pub args: serde_json::Map<String, serde_json::Value>,
}

/// One track: either slices (properly nested, in time order) or instants.
#[derive(Clone, Debug)]
pub(super) struct Track {
    pub pid: u64,
    pub tid: u64,
    pub name: String,
    pub slices: Vec<Slice>,
    pub instants: Vec<Instant>,
}

/// Builds the tracks of one process, numbering them in the order they are
/// asked for.
pub(super) struct TrackSet {
    pub pid: u64,
    pub tracks: Vec<Track>,
}

impl TrackSet {
    pub fn new(pid: u64) -> TrackSet {
        TrackSet {
            pid,
            tracks: Vec::new(),
        }
    }

    fn open(&mut self, name: String) -> usize {
        self.tracks.push(Track {
            pid: self.pid,
            tid: self.tracks.len() as u64 + 1,
            name,
            slices: Vec::new(),
            instants: Vec::new(),
        });
        self.tracks.len() - 1
    }

    /// A track of instants named `name`.
    pub fn instants(&mut self, name: &str, instants: Vec<Instant>) {
        let i = self.open(name.to_string());
        self.tracks[i].instants = instants;
    }

    /// Lays `slices` (sorted by start) out on as few lanes as keep each
    /// lane's slices apart: the first lane is called `name`, later ones
    /// `name (lane N)`.
    pub fn lanes(&mut self, name: &str, slices: Vec<Slice>) {
        let first = self.tracks.len();
        let mut lane_ends: Vec<u64> = Vec::new();
        for slice in slices {
            debug_assert!(slice.end_ns >= slice.start_ns);
            let lane = match lane_ends.iter().position(|&end| end <= slice.start_ns) {
                Some(lane) => lane,
                None => {
                    let label = match lane_ends.len() {
                        0 => name.to_string(),
                        n => format!("{name} (lane {})", n + 1),
                    };
                    self.open(label);
                    lane_ends.push(0);
                    lane_ends.len() - 1
                }
            };
            lane_ends[lane] = slice.end_ns;
            self.tracks[first + lane].slices.push(slice);
        }
    }
}

/// The slice name and colour of an operation's outcome. A `fail` the
/// system answered (a compare-and-set whose compare did not match) is an
/// answer, not an error, so it is named and coloured apart from a failed
/// request.
pub(super) fn outcome_style(outcome: Outcome, answered: bool) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Ok => ("ok", "good"),
        Outcome::Fail if answered => ("fail (answered)", "olive"),
        Outcome::Fail => ("fail", "bad"),
        Outcome::Info => ("info", "yellow"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(start_ns: u64, end_ns: u64) -> Slice {
        Slice {
            name: "s".into(),
            cat: "test",
            cname: None,
            start_ns,
            end_ns,
            args: Default::default(),
        }
    }

    #[test]
    fn overlapping_slices_take_new_lanes_and_reuse_free_ones() {
        let mut set = TrackSet::new(PID_NEMESIS);
        set.lanes(
            "faults",
            vec![slice(0, 10), slice(5, 20), slice(10, 12), slice(30, 40)],
        );
        let names: Vec<&str> = set.tracks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["faults", "faults (lane 2)"]);
        let starts = |t: &Track| t.slices.iter().map(|s| s.start_ns).collect::<Vec<_>>();
        assert_eq!(starts(&set.tracks[0]), [0, 10, 30]);
        assert_eq!(starts(&set.tracks[1]), [5]);
        assert_eq!(set.tracks.iter().map(|t| t.tid).collect::<Vec<_>>(), [1, 2]);
    }
}
