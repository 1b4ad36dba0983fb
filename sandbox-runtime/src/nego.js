// Perfect negotiation for one peer connection, as a state machine. The impolite side
// ignores an offer that collides with its own; the polite side applies it, which rolls its
// own offer back. The two sides must disagree on who is polite: the core decides it by
// session id (after a relay restart both sides may believe they made the first offer). The browser layer carries out each
// decision on the RTCPeerConnection in order, so the state here is the state the
// connection will be in once it has caught up.

export class Negotiation {
  constructor(initiator) {
    this.initiator = initiator;
    this.polite = !initiator;
    this.offer = null;
    this.making = false;
    this.state = 'stable';
    this.hasRemote = false;
  }

  /** The connection asks to negotiate: true when we should make an offer now. */
  wants() {
    // The side that did not initiate waits for the first offer rather than racing it.
    if (!this.initiator && !this.hasRemote) return false;
    this.making = true;
    return true;
  }

  /** Our local description is set: true when it should be sent. */
  local(desc) {
    if (desc.type == 'offer') {
      this.making = false;
      // An offer overtaken by the remote one we accepted meanwhile was rolled back.
      if (this.state == 'have-remote-offer') return false;
      this.state = 'have-local-offer';
      this.offer = desc;
    } else (this.state = 'stable'), (this.answer = desc);
    return true;
  }

  /** A remote description arrived: true when it should be applied. */
  remote(desc) {
    if (desc.type == 'offer') {
      const glare = this.making || this.state != 'stable';
      // An offer seen before (made again, or replayed) is not applied twice.
      if ((glare && !this.polite) || desc.sdp == this.seen) return false;
      this.seen = desc.sdp;
      this.state = 'have-remote-offer';
    } else if (desc.type == 'answer' && this.state == 'have-local-offer') this.state = 'stable';
    else return false;
    return (this.hasRemote = true);
  }
}
