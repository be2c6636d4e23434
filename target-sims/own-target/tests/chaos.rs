//! `cargo test` runs the scenario: the register keeps its promises, and
//! the planted bug is caught.

#[test]
fn the_register_stays_linearizable_when_replies_are_lost() {
    harness::check(own_target::registry(), "scenarios/lost-replies.toml")
        .seeds(0..20)
        .run()
        .assert_passed();
}

#[test]
fn reporting_a_lost_reply_as_failed_is_caught() {
    harness::check(own_target::registry(), "scenarios/lost-replies.toml")
        .seeds(0..20)
        .set("target.bug", "timeout-is-fail")
        .run()
        .assert_fails_with("linearizable");
}
