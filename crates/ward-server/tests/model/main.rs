//! The model-based test of the rules of authority (issue 9): random
//! sequences of operations by random principals against a real in-process
//! server, each answer held to a reference model, the invariants checked
//! after every step.
//!
//! `PROPTEST_CASES` sets the number of cases (default 2,000); a failure
//! prints the shrunk op sequence and, in words, the steps as they ran.

mod driver;
mod invariants;
mod model;
mod ops;
mod rules;
mod step;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use std::sync::OnceLock;
use tokio::runtime::Runtime;

/// One runtime for the whole run.
fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
    })
}

/// The template database, built once.
fn template() -> &'static driver::Template {
    static T: OnceLock<driver::Template> = OnceLock::new();
    T.get_or_init(|| rt().block_on(driver::Template::build()))
}

/// Generation only: the ops carry indices that the case resolves against
/// its model (see `ops::Model::resolve`), so no state is needed here.
struct Ops;

impl ReferenceStateMachine for Ops {
    type State = ();
    type Transition = ops::Op;

    fn init_state() -> BoxedStrategy<Self::State> {
        Just(()).boxed()
    }

    fn transitions(_: &Self::State) -> BoxedStrategy<Self::Transition> {
        ops::op()
    }

    fn apply(state: Self::State, _: &Self::Transition) -> Self::State {
        state
    }
}

struct Authority;

impl StateMachineTest for Authority {
    type SystemUnderTest = step::Case;
    type Reference = Ops;

    fn init_test(_: &()) -> Self::SystemUnderTest {
        rt().block_on(step::Case::start(template()))
    }

    fn apply(mut case: Self::SystemUnderTest, _: &(), op: ops::Op) -> Self::SystemUnderTest {
        rt().block_on(case.apply(&op));
        case
    }

    fn teardown(mut case: Self::SystemUnderTest) {
        rt().block_on(case.server.stop());
    }
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    Config {
        cases,
        max_shrink_iters: 2000,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..Config::default()
    }
}

prop_state_machine! {
    #![proptest_config(config())]

    #[test]
    fn the_server_answers_as_the_model_of_authority_says(sequential 5..15 => Authority);
}
