//! [`MeshTask`]: a relay's [`Mesh`] on a tokio task of its own, so that the UDP path never
//! waits for the federation. The core and the mesh talk over two bounded channels; the mesh
//! takes what the core sends before anything else, and when the core's channel is full it
//! stops reading swarm events until the core catches up (backpressure down to TCP, never a
//! dropped message).

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::federated::{Mesh, MeshReport};
use crate::core::{MeshInput, MeshOutput};

/// Messages waiting in each direction between the core and the mesh.
const CHANNEL: usize = 1024;

/// The core's end of a [`Mesh`] running on its own task.
pub struct MeshTask {
    to_mesh: mpsc::Sender<MeshOutput>,
    from_mesh: mpsc::Receiver<MeshInput>,
    report: watch::Receiver<MeshReport>,
    task: JoinHandle<()>,
}

impl MeshTask {
    /// Moves `mesh` onto a task of its own. Must be called inside a tokio runtime.
    pub fn spawn(mesh: Mesh) -> Self {
        let (to_mesh, outputs) = mpsc::channel(CHANNEL);
        let (inputs, from_mesh) = mpsc::channel(CHANNEL);
        let (report_tx, report) = watch::channel(mesh.report());
        let task = tokio::spawn(drive(mesh, outputs, inputs, report_tx));
        Self {
            to_mesh,
            from_mesh,
            report,
            task,
        }
    }

    /// Hands something the core's sessions did to the federation; waits only while the
    /// mesh's channel is full (the mesh takes these first, so not for long).
    pub async fn send(&self, output: MeshOutput) {
        // An error means the mesh task ended, which happens only after `close`.
        let _ = self.to_mesh.send(output).await;
    }

    /// The next thing the core must hear; never resolves once the mesh task ended.
    /// Cancel-safe.
    pub async fn recv(&mut self) -> MeshInput {
        match self.from_mesh.recv().await {
            Some(input) => input,
            None => std::future::pending().await,
        }
    }

    /// What the core must hear and is already waiting, if any.
    pub fn try_recv(&mut self) -> Option<MeshInput> {
        self.from_mesh.try_recv().ok()
    }

    /// The federation's counters, as of the mesh task's last step.
    pub fn report(&self) -> MeshReport {
        *self.report.borrow()
    }

    /// Leaves the federation ([`Mesh::close`]) once everything sent so far went out.
    pub async fn close(self) {
        let Self { to_mesh, task, .. } = self;
        drop(to_mesh);
        let _ = task.await;
    }
}

async fn drive(
    mut mesh: Mesh,
    mut outputs: mpsc::Receiver<MeshOutput>,
    inputs: mpsc::Sender<MeshInput>,
    report: watch::Sender<MeshReport>,
) {
    let mut pending: Option<MeshInput> = None;
    loop {
        // Hand the node's inputs to the core while its channel takes them.
        while let Some(input) = pending.take().or_else(|| mesh.poll_input()) {
            match inputs.try_send(input) {
                Ok(()) | Err(TrySendError::Closed(_)) => {}
                Err(TrySendError::Full(input)) => {
                    pending = Some(input);
                    break;
                }
            }
        }
        report.send_replace(mesh.report());
        tokio::select! {
            biased;
            output = outputs.recv() => match output {
                Some(output) => mesh.from_relay(output),
                None => break,
            },
            permit = inputs.reserve(), if pending.is_some() => {
                if let (Ok(permit), Some(input)) = (permit, pending.take()) {
                    permit.send(input);
                }
            }
            event = mesh.next_event(), if pending.is_none() => mesh.handle(event),
        }
    }
    report.send_replace(mesh.report());
    mesh.close().await;
}
