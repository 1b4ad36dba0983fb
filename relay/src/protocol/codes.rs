//! Error and close codes carried in `Error` and `Closing` frames.

use std::fmt;

macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A code this version does not know (kept for forward compatibility).
            Unknown(u8),
        }

        impl $name {
            /// The wire value.
            pub fn to_u8(self) -> u8 {
                match self {
                    $(Self::$variant => $value,)*
                    Self::Unknown(v) => v,
                }
            }

            /// Reads a wire value; unknown values are kept as [`Self::Unknown`].
            pub fn from_u8(value: u8) -> Self {
                match value {
                    $($value => Self::$variant,)*
                    v => Self::Unknown(v),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Self::$variant => f.write_str($text),)*
                    Self::Unknown(v) => write!(f, "unknown code {v}"),
                }
            }
        }
    };
}

codes! {
    /// Why a request failed. The session stays open (unless repeated malformed frames close it).
    ErrorCode {
        /// The frame did not decode.
        Malformed = 1 => "malformed frame",
        /// The frame exceeded [`super::MAX_FRAME_LEN`].
        TooLarge = 2 => "frame too large",
        /// The type byte is not a client message type.
        UnknownType = 3 => "unknown message type",
        /// `Hello` named a version this relay does not speak.
        UnsupportedVersion = 4 => "unsupported protocol version",
        /// A request came before `Hello`.
        HelloRequired = 5 => "hello required first",
        /// A second `Hello`.
        DuplicateHello = 6 => "duplicate hello",
        /// The room has reached the relay's maximum room size.
        RoomFull = 7 => "room full",
        /// The session is in as many rooms as the relay allows.
        TooManyRooms = 8 => "too many rooms",
        /// `Join` for a room the session is already in.
        AlreadyJoined = 9 => "already joined",
        /// `Leave` or `Signal` for a room the session is not in.
        NotInRoom = 10 => "not in room",
        /// `Signal` to a peer id that is not in that room.
        UnknownPeer = 11 => "unknown peer",
        /// The session sent more messages than its rate limit allows; the message was dropped.
        RateLimited = 12 => "rate limited",
    }
}

codes! {
    /// Why the relay is closing a session.
    CloseCode {
        /// The relay is shutting down.
        ShuttingDown = 1 => "relay shutting down",
        /// The relay already serves its maximum number of sessions.
        RelayFull = 2 => "relay full",
        /// Too many malformed or rejected frames.
        TooManyErrors = 3 => "too many errors",
        /// The client's `Hello` named an unsupported version.
        UnsupportedVersion = 4 => "unsupported protocol version",
        /// No frame for `idle_timeout_secs`.
        IdleTimeout = 5 => "idle timeout",
    }
}
