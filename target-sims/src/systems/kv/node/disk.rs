//! The node's disk glue: the vote file, checkpoints and the compaction
//! they allow, and what a disk error does — step down and reload the
//! whole state from disk before taking part again.

use super::Node;
use crate::systems::kv::checkpoint::{
    replace_file, Checkpoint, CHECKPOINT_PATH, CHECKPOINT_TMP_PATH, META_PATH, META_TMP_PATH,
};
use crate::systems::kv::recovery::{load, RECOVERY_RETRY};
use crate::systems::kv::settings::Bug;
use crate::systems::kv::wal::encode_record;
use std::io;
use std::rc::Rc;

impl Node {
    pub(super) async fn persist_meta(&mut self) -> bool {
        let bytes = self.meta.encode();
        match replace_file(&self.disk, META_TMP_PATH, META_PATH, &bytes).await {
            Ok(()) => true,
            Err(err) => {
                self.fail_disk("vote file", err);
                false
            }
        }
    }

    pub(super) fn fail_disk(&mut self, what: &str, err: io::Error) {
        tracing::warn!(target: "kv", host = %self.host, what, why = %err, "disk error; reloading from disk");
        self.step_down();
        self.broken = Some(format!("{what}: {err}"));
    }

    pub(super) async fn repair(&mut self) {
        tokio::time::sleep(RECOVERY_RETRY).await;
        let loaded = load(&self.disk, &self.host, !self.config.bug(Bug::SkipChecksum)).await;
        self.install(loaded);
        self.publish();
    }

    pub(super) async fn maybe_checkpoint(&mut self) {
        if self.applied < self.log.base_index() + self.config.checkpoint_every {
            return;
        }
        if let Some(failed) = self.checkpoint_failed_at {
            if self.applied < failed + self.config.checkpoint_every / 2 {
                return;
            }
        }
        let checkpoint = Checkpoint {
            last_index: self.applied,
            last_term: self
                .log
                .term_at(self.applied)
                .expect("applied is in the log"),
            digest: self.digest,
            state: self.state.clone(),
        };
        if let Err(err) = replace_file(
            &self.disk,
            CHECKPOINT_TMP_PATH,
            CHECKPOINT_PATH,
            &checkpoint.encode(),
        )
        .await
        {
            tracing::warn!(target: "kv", host = %self.host, why = %err, "checkpoint failed");
            self.checkpoint_failed_at = Some(self.applied);
            return;
        }
        self.checkpoint_failed_at = None;
        tracing::info!(
            target: "kv",
            host = %self.host,
            index = checkpoint.last_index,
            term = checkpoint.last_term,
            wall_ms = self.clock.now_ms(),
            "checkpoint written"
        );
        let (index, term) = (checkpoint.last_index, checkpoint.last_term);
        self.checkpoint = Rc::new(checkpoint);
        self.compact(index, term).await;
    }

    /// Drops the log up to `index` (now in the checkpoint) and rewrites the
    /// WAL with what is left. False if the disk failed.
    pub(super) async fn compact(&mut self, index: u64, term: u64) -> bool {
        let mut bytes = Vec::new();
        let mut offsets = Vec::new();
        for (i, entry) in self.log.after(index) {
            offsets.push(bytes.len() as u64);
            encode_record(i, entry, &mut bytes);
        }
        if let Err(err) = self.wal.rewrite(&bytes).await {
            self.fail_disk("wal rewrite", err);
            return false;
        }
        self.log.rebase(index, term, offsets);
        true
    }
}
