//! Counterexamples rebuilt from the parent links: a query starts at the worker that holds a
//! witness and walks back through the owners (each adds the action that reached the state it
//! holds and passes the query to the parent's owner) to the initial state, and on to worker 0.

use super::level::unlink;
use super::worker::Search;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::{Concat, ConnectLoop, Feedback, Input};
use timely::dataflow::InputHandle;
use timely::worker::Worker;

/// A counterexample being walked back: the witness's worker and property, where the walk is
/// (the state at `position` of `level` in worker `to`'s share), and the actions so far, last
/// first.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Query {
    pub to: u32,
    pub origin: u32,
    pub prop: u32,
    pub level: u32,
    pub position: u32,
    pub actions: Vec<u16>,
}

/// A finished walk: the witness's worker, its property, and the action numbers from the
/// initial state.
pub type Traced = (u32, u32, Vec<u16>);

/// Builds the walk's dataflow; every worker sends the queries of its witnesses into the input.
pub fn dataflow(
    worker: &mut Worker,
    search: Rc<RefCell<Search>>,
    done: Rc<RefCell<Vec<Traced>>>,
) -> InputHandle<u32, timely::container::CapacityContainerBuilder<Vec<Query>>> {
    let mut input = InputHandle::new();
    let index = worker.index();
    worker.dataflow::<u32, _, _>(|scope| {
        let (handle, looped) = scope.feedback(1u32);
        scope
            .input_from(&mut input)
            .concat(looped)
            .unary(
                Exchange::new(|q: &Query| u64::from(q.to)),
                "Trace",
                move |_, _| {
                    move |input, output| {
                        input.for_each(|cap, data| {
                            let mut session = output.session(&cap);
                            for mut q in data.drain(..) {
                                if q.level == 0 && index == 0 {
                                    q.actions.reverse();
                                    done.borrow_mut().push((q.origin, q.prop, q.actions));
                                    continue;
                                }
                                if q.level == 0 {
                                    // The initial state's owner passes the walk on to worker 0.
                                    q.to = 0;
                                    session.give(q);
                                    continue;
                                }
                                let l = search
                                    .borrow()
                                    .links
                                    .get(q.level as usize, q.position as usize);
                                let (to, position, action) = unlink(l);
                                q.actions.push(action);
                                q.level -= 1;
                                q.position = position;
                                q.to = to as u32;
                                session.give(q);
                            }
                        });
                    }
                },
            )
            .connect_loop(handle);
    });
    input
}
