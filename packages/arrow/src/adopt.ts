/**
 * Tables made by another copy of apache-arrow, rebuilt in ours.
 *
 * A CommonJS program's `require('apache-arrow')` loads apache-arrow's CJS
 * build, while this package imports its ESM build: two module instances
 * (the dual-package hazard). apache-arrow's writer decides what to write with
 * `instanceof` (visitor.ts `getVisitFn`, ipc/writer.ts), so a table from the
 * other instance was written with a broken schema — a Float64 column declared
 * as Float16, a dictionary with no index type — and nothing failed. Here the
 * schema and the `Data` tree are rebuilt from what every copy shares: the
 * `typeId` and each type's public parameters (apache-arrow's own
 * `Symbol.for('apache-arrow/…')` brands tell a foreign table). Buffers are
 * reused as they are, so nothing is copied.
 */
import {
  Binary, BinaryView, Bool, DataType, Data, Date_, Decimal, Dictionary, Duration, Field, FixedSizeBinary, FixedSizeList, Float,
  Int, Interval, LargeBinary, LargeList, LargeUtf8, List, Map_, Null, RecordBatch, Schema, Struct, Table, Time, Timestamp, Type,
  Union, Utf8, Utf8View, Vector,
} from 'apache-arrow';
import { invalidArgValue } from '@shmbridge/core';

/** The parts of a foreign type that rebuilding reads (every copy has them). */
type AnyType = DataType & Record<string, any>;
type AnyField = { name: string; type: AnyType; nullable: boolean; metadata: Map<string, string> };
type AnyData = {
  type: AnyType; offset: number; length: number; nullCount: number; children: AnyData[];
  valueOffsets?: unknown; values?: unknown; nullBitmap?: unknown; typeIds?: unknown;
  dictionary?: { data: AnyData[] }; variadicBuffers?: ReadonlyArray<Uint8Array>;
};

class Adopter {
  // One foreign type object → one of ours: dictionaries are told apart by
  // identity (and id) when the writer collects them.
  readonly #types = new Map<object, DataType>();
  constructor(readonly column: () => string) {}

  field(f: AnyField): Field {
    return new Field(f.name, this.type(f.type), f.nullable, new Map(f.metadata));
  }

  type(t: AnyType): DataType {
    let ours = this.#types.get(t);
    if (!ours) {
      ours = this.#make(t);
      this.#types.set(t, ours);
    }
    return ours;
  }

  #make(t: AnyType): DataType {
    const child = (): Field => this.field(t.children[0] as AnyField);
    switch (t.typeId) {
      case Type.Null: return new Null();
      case Type.Int: return new Int(t.isSigned, t.bitWidth);
      case Type.Float: return new Float(t.precision);
      case Type.Binary: return new Binary();
      case Type.LargeBinary: return new LargeBinary();
      case Type.BinaryView: return new BinaryView();
      case Type.Utf8: return new Utf8();
      case Type.LargeUtf8: return new LargeUtf8();
      case Type.Utf8View: return new Utf8View();
      case Type.Bool: return new Bool();
      case Type.Decimal: return new Decimal(t.scale, t.precision, t.bitWidth);
      case Type.Date: return new Date_(t.unit);
      case Type.Time: return new Time(t.unit, t.bitWidth);
      case Type.Timestamp: return new Timestamp(t.unit, t.timezone);
      case Type.Interval: return new Interval(t.unit);
      case Type.Duration: return new Duration(t.unit);
      case Type.FixedSizeBinary: return new FixedSizeBinary(t.byteWidth);
      case Type.List: return new List(child());
      case Type.LargeList: return new LargeList(child());
      case Type.FixedSizeList: return new FixedSizeList(t.listSize, child());
      case Type.Struct: return new Struct(t.children.map((f: AnyField) => this.field(f)));
      case Type.Union: return new Union(t.mode, t.typeIds, t.children.map((f: AnyField) => this.field(f)));
      case Type.Map: return new Map_(child() as Field<Struct>, t.keysSorted);
      case Type.Dictionary: return new Dictionary(this.type(t.dictionary), this.type(t.indices) as Int as never, t.id, t.isOrdered);
      default:
        throw invalidArgValue('table', `has column '${this.column()}' of a type shmbridge cannot share (${String(t)}, typeId ${String(t.typeId)})`, t);
    }
  }

  data(d: AnyData): Data {
    const dictionary = d.dictionary ? new Vector(d.dictionary.data.map((x) => this.data(x))) : undefined;
    return new Data(this.type(d.type), d.offset, d.length, d.nullCount,
      [d.valueOffsets, d.values, d.nullBitmap, d.typeIds] as never, d.children.map((c) => this.data(c)), dictionary, d.variadicBuffers ?? []);
  }
}

/**
 * The same table rebuilt in this package's apache-arrow (same buffers, no
 * copy). Always rebuilt: `instanceof Table` is true across copies (Table has
 * a brand-based `Symbol.hasInstance`) while `instanceof DataType`, which the
 * writer relies on, is not, and a table of ours may hold another copy's
 * columns; rebuilding costs a few objects per column and batch.
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a column type this apache-arrow has no class for
 */
export function adoptTable(table: Table): Table {
  const other = table as unknown as { schema: { fields: AnyField[]; metadata: Map<string, string> }; batches: Array<{ data: AnyData; metadata?: Map<string, string> }> };
  let column = '';
  const adopter = new Adopter(() => column);
  const foreign = other.schema;
  const fields = foreign.fields.map((f) => {
    column = f.name;
    return adopter.field(f);
  });
  const schema = new Schema(fields, new Map(foreign.metadata));
  const batches = other.batches.map((b) => {
    column = '';
    return new RecordBatch(schema, adopter.data(b.data) as Data<Struct>, new Map(b.metadata ?? []) as never);
  });
  return new Table(schema, batches);
}

/**
 * A description of a schema that any apache-arrow copy gives alike: field
 * names, nullability and every type parameter that decides the bytes.
 * `shareTable` compares the table's with what it reads back from the block.
 */
export function schemaSignature(schema: Schema): string {
  return (schema.fields as unknown as AnyField[]).map(fieldSignature).join(',');
}

function fieldSignature(f: AnyField): string {
  return `${JSON.stringify(f.name)}${f.nullable ? '?' : ''}:${typeSignature(f.type)}`;
}

function typeSignature(t: AnyType): string {
  const params = ['isSigned', 'bitWidth', 'precision', 'scale', 'unit', 'timezone', 'byteWidth', 'listSize', 'mode', 'keysSorted', 'isOrdered']
    .filter((k) => t[k] !== undefined && t[k] !== null)
    .map((k) => `${k}=${String(t[k])}`);
  if (t.typeIds) params.push(`typeIds=${Array.from(t.typeIds as ArrayLike<number>).join('|')}`);
  const inner = t.typeId === Type.Dictionary
    ? [typeSignature(t.indices), typeSignature(t.dictionary)]
    : ((t.children ?? []) as AnyField[]).map(fieldSignature);
  return `${String(t.typeId)}(${params.join(';')})[${inner.join(',')}]`;
}
