//! Reading envelopes back out of transactions, exactly as ord's indexer does.

use std::collections::BTreeMap;
use std::iter::Peekable;

use bitcoin::opcodes::all::{OP_ENDIF, OP_IF, OP_PUSHNUM_1, OP_PUSHNUM_16, OP_PUSHNUM_NEG1};
use bitcoin::script::{Instruction, Instructions, Script};
use bitcoin::{Transaction, Witness};

use crate::{Curse, Inscription, InscriptionId, Tag, PROTOCOL_ID};

/// A script that does not decode (a push runs past the end).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tapscript does not decode: {0}")]
pub struct ScriptError(String);

/// One envelope found in a transaction, with where it was and what ord would make of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The inscription's fields.
    pub inscription: Inscription,
    /// Index of the input whose tapscript holds it.
    pub input: u32,
    /// Its position among the envelopes of that input's tapscript.
    pub offset: u32,
    /// An `OP_1`..`OP_16` or `OP_1NEGATE` stood in for a push.
    pub pushnum: bool,
    /// The envelope came right after a false start (`OP_FALSE OP_FALSE OP_IF …`).
    pub stutter: bool,
    /// A tag appeared more than once. As in ord this counts every repeated tag: two or more
    /// parents, metadata or properties longer than 520 bytes (several chunks), and unknown
    /// odd tags all set it.
    pub duplicate_field: bool,
    /// The fields ended on a tag with no value.
    pub incomplete_field: bool,
    /// A tag ord does not know, and even: the inscription is unbound.
    pub unrecognized_even_field: bool,
}

type Pushes<'a> = Peekable<Instructions<'a>>;

impl Envelope {
    /// Every envelope in `tx`, in id order (across inputs, then within each tapscript).
    ///
    /// Like ord, an input whose tapscript does not decode contributes nothing, not even the
    /// envelopes before the fault.
    pub fn from_transaction(tx: &Transaction) -> Vec<Envelope> {
        scan(tx).envelopes
    }

    /// The envelopes of one tapscript, as found in input `input`.
    pub fn from_tapscript(tapscript: &Script, input: u32) -> Result<Vec<Envelope>, ScriptError> {
        let mut envelopes = Vec::new();
        let mut instructions = tapscript.instructions().peekable();
        let mut stuttered = false;
        while let Some(instruction) = next(&mut instructions)? {
            if instruction == Instruction::PushBytes((&[]).into()) {
                let offset = u32::try_from(envelopes.len()).expect("fewer than 2^32 envelopes");
                let (stutter, raw) = read_raw(&mut instructions, stuttered)?;
                match raw {
                    Some(raw) => envelopes.push(Self::from_raw(raw, input, offset)),
                    None => stuttered = stutter,
                }
            }
        }
        Ok(envelopes)
    }

    /// The envelope's id in a reveal with `txid`, given its position among all envelopes.
    pub fn id(txid: bitcoin::Txid, position: usize) -> InscriptionId {
        InscriptionId::new(txid, u32::try_from(position).expect("fewer than 2^32"))
    }

    /// What ord's indexer holds against this envelope, most serious first (before the
    /// jubilee a curse gave a negative number; after it, every curse but unbound is
    /// vindicated). Reinscription needs the chain's history and is not judged here.
    pub fn curse(&self) -> Option<Curse> {
        if self.unrecognized_even_field {
            Some(Curse::UnrecognizedEvenField)
        } else if self.duplicate_field {
            Some(Curse::DuplicateField)
        } else if self.incomplete_field {
            Some(Curse::IncompleteField)
        } else if self.input != 0 {
            Some(Curse::NotInFirstInput)
        } else if self.offset != 0 {
            Some(Curse::NotAtOffsetZero)
        } else if self.inscription.pointer.is_some() {
            Some(Curse::Pointer)
        } else if self.pushnum {
            Some(Curse::Pushnum)
        } else if self.stutter {
            Some(Curse::Stutter)
        } else {
            None
        }
    }

    /// Whether ord binds this inscription to no sat: an unknown even field does that (ord
    /// also unbinds inscriptions revealed in inputs worth nothing, which needs the spent
    /// outputs to judge).
    pub fn unbound(&self) -> bool {
        self.unrecognized_even_field
    }

    fn from_raw(raw: Raw, input: u32, offset: u32) -> Envelope {
        let payload = raw.payload;
        let body_at = payload
            .iter()
            .enumerate()
            .position(|(i, push)| i % 2 == 0 && push.is_empty());
        let mut fields: BTreeMap<&[u8], Vec<&[u8]>> = BTreeMap::new();
        let mut incomplete_field = false;
        for pair in payload[..body_at.unwrap_or(payload.len())].chunks(2) {
            match pair {
                [key, value] => fields.entry(key).or_default().push(value),
                _ => incomplete_field = true,
            }
        }
        let duplicate_field = fields.values().any(|values| values.len() > 1);
        let mut take = |tag: Tag| take(&mut fields, tag);
        let content_type = take(Tag::ContentType);
        let content_encoding = take(Tag::ContentEncoding);
        let metaprotocol = take(Tag::Metaprotocol);
        let delegate = take(Tag::Delegate);
        let pointer = take(Tag::Pointer);
        let metadata = take(Tag::Metadata);
        let rune = take(Tag::Rune);
        let properties = take(Tag::Properties);
        let property_encoding = take(Tag::PropertyEncoding);
        let note = take(Tag::Note);
        let parents = fields
            .remove([Tag::Parent.byte()].as_slice())
            .unwrap_or_default()
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect();
        let unrecognized_even_field = fields
            .keys()
            .any(|tag| tag.first().is_some_and(|lsb| lsb % 2 == 0));
        let body = body_at.map(|i| payload[i + 1..].concat());
        Envelope {
            inscription: Inscription {
                content_type,
                content_encoding,
                metaprotocol,
                parents,
                delegate,
                pointer,
                metadata,
                rune,
                properties,
                property_encoding,
                note,
                body,
            },
            input,
            offset,
            pushnum: raw.pushnum,
            stutter: raw.stutter,
            duplicate_field,
            incomplete_field,
            unrecognized_even_field,
        }
    }
}

/// What reading every input of a transaction found.
pub(crate) struct Scan {
    /// Every envelope, in id order.
    pub(crate) envelopes: Vec<Envelope>,
    /// Whether any input has a witness at all.
    pub(crate) witnessed: bool,
    /// The first input whose tapscript does not decode, and why.
    pub(crate) undecodable: Option<(u32, ScriptError)>,
}

/// Reads every input's tapscript, as ord's `ParsedEnvelope::from_transaction`.
pub(crate) fn scan(tx: &Transaction) -> Scan {
    let mut scan = Scan {
        envelopes: Vec::new(),
        witnessed: false,
        undecodable: None,
    };
    for (index, input) in tx.input.iter().enumerate() {
        scan.witnessed |= !input.witness.is_empty();
        let Some(tapscript) = tapscript(&input.witness) else {
            continue;
        };
        let index = u32::try_from(index).expect("fewer than 2^32 inputs");
        match Envelope::from_tapscript(tapscript, index) {
            Ok(found) => scan.envelopes.extend(found),
            Err(e) => {
                scan.undecodable.get_or_insert((index, e));
            }
        }
    }
    scan
}

/// The leaf script of a script-path spend: the second-to-last witness element, or the
/// third-to-last when the last is an annex (starts with 0x50) — what ord reads.
pub(crate) fn tapscript(witness: &Witness) -> Option<&Script> {
    #[allow(deprecated)]
    witness.tapscript()
}

/// Takes a field's value: chunked tags join all their pieces; others take the first
/// value (a second one already counted as a duplicate).
fn take(fields: &mut BTreeMap<&[u8], Vec<&[u8]>>, tag: Tag) -> Option<Vec<u8>> {
    let key = [tag.byte()];
    if tag.is_chunked() {
        return fields.remove(key.as_slice()).map(|values| values.concat());
    }
    let values = fields.get_mut(key.as_slice())?;
    if values.is_empty() {
        return None;
    }
    let first = values.remove(0).to_vec();
    if values.is_empty() {
        fields.remove(key.as_slice());
    }
    Some(first)
}

struct Raw {
    payload: Vec<Vec<u8>>,
    pushnum: bool,
    stutter: bool,
}

fn next<'a>(instructions: &mut Pushes<'a>) -> Result<Option<Instruction<'a>>, ScriptError> {
    instructions
        .next()
        .transpose()
        .map_err(|e| ScriptError(e.to_string()))
}

/// Consumes `expected` if it is next.
fn accept(instructions: &mut Pushes<'_>, expected: Instruction<'_>) -> Result<bool, ScriptError> {
    match instructions.peek() {
        Some(Ok(instruction)) if *instruction == expected => {
            next(instructions)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

fn peek_is_false(instructions: &mut Pushes<'_>) -> bool {
    matches!(instructions.peek(), Some(Ok(Instruction::PushBytes(p))) if p.is_empty())
}

/// After an `OP_FALSE`: reads `OP_IF "ord" … OP_ENDIF`. Returns whether a failed start is
/// followed by another `OP_FALSE` (a stutter), and the envelope if one was complete.
fn read_raw(
    instructions: &mut Pushes<'_>,
    stutter: bool,
) -> Result<(bool, Option<Raw>), ScriptError> {
    if !accept(instructions, Instruction::Op(OP_IF))? {
        return Ok((peek_is_false(instructions), None));
    }
    if !accept(instructions, Instruction::PushBytes((&PROTOCOL_ID).into()))? {
        return Ok((peek_is_false(instructions), None));
    }
    let mut pushnum = false;
    let mut payload = Vec::new();
    loop {
        match next(instructions)? {
            None => return Ok((false, None)),
            Some(Instruction::Op(OP_ENDIF)) => {
                return Ok((
                    false,
                    Some(Raw {
                        payload,
                        pushnum,
                        stutter,
                    }),
                ))
            }
            Some(Instruction::Op(OP_PUSHNUM_NEG1)) => {
                pushnum = true;
                payload.push(vec![0x81]);
            }
            Some(Instruction::Op(op))
                if (OP_PUSHNUM_1.to_u8()..=OP_PUSHNUM_16.to_u8()).contains(&op.to_u8()) =>
            {
                pushnum = true;
                payload.push(vec![op.to_u8() - OP_PUSHNUM_1.to_u8() + 1]);
            }
            Some(Instruction::PushBytes(push)) => payload.push(push.as_bytes().to_vec()),
            Some(_) => return Ok((false, None)),
        }
    }
}
