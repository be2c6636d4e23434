//! The targets built on the axum and tonic adapters, end to end: each
//! keeps its promises under its scenario's faults, and each planted bug is
//! caught by the invariant meant to catch it.

#[test]
fn the_axum_kv_service_stays_linearizable_under_lost_replies() {
    harness::check(target_sims::registry(), "http-kv-cas")
        .seeds(0..10)
        .run()
        .assert_passed();
}

#[test]
fn a_cas_handler_that_awaits_between_check_and_set_is_caught() {
    harness::check(target_sims::registry(), "http-kv-cas")
        .seeds(0..5)
        .set("target.check_then_act", "true")
        .run()
        .assert_fails_with("linearizable");
}

#[test]
fn the_tonic_counter_counts_each_resent_add_once() {
    harness::check(target_sims::registry(), "grpc-counter-lost-replies")
        .seeds(0..10)
        .run()
        .assert_passed();
}

#[test]
fn a_client_that_draws_a_new_idempotency_key_per_attempt_is_caught() {
    harness::check(target_sims::registry(), "grpc-counter-lost-replies")
        .seeds(0..5)
        .set("target.fresh_id_per_attempt", "true")
        .run()
        .assert_fails_with("linearizable");
}
