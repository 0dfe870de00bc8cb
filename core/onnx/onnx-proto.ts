/**
 * Small typed helpers over the generated ONNX protobuf classes (`onnx-proto`, ONNX 1.10 schema). The schema is old
 * but the wire format of the messages we write has not changed since; newer operators (ai.onnx.ml TreeEnsemble-5)
 * are just nodes with attributes.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type INodeProto = onnxProto.onnx.INodeProto;
export type IAttributeProto = onnxProto.onnx.IAttributeProto;
export type ITensorProto = onnxProto.onnx.ITensorProto;
export type IValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const DataType = onnx.TensorProto.DataType;
const AttrType = onnx.AttributeProto.AttributeType;

/** Element types we write, with the typed array that holds their little-endian raw bytes. */
export type ElementType = 'float32' | 'float64' | 'uint8';

const DATA_TYPE: Record<ElementType, number> = { float32: DataType.FLOAT, float64: DataType.DOUBLE, uint8: DataType.UINT8 };

function rawBytes(values: ArrayLike<number>, type: ElementType): Uint8Array {
  const arr = type === 'float32' ? Float32Array.from(values) : type === 'float64' ? Float64Array.from(values) : Uint8Array.from(values);
  // Typed arrays use the platform byte order; ONNX raw_data is little-endian. Every platform we ship on is LE.
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

/** A tensor stored as raw_data; `dims` defaults to a 1-D tensor of the values' length. */
export function tensor(name: string, type: ElementType, values: ArrayLike<number>, dims: number[] = [values.length]): ITensorProto {
  return { name, dataType: DATA_TYPE[type], dims, rawData: rawBytes(values, type) };
}

export const attr = {
  int: (name: string, i: number): IAttributeProto => ({ name, type: AttrType.INT, i }),
  ints: (name: string, ints: number[]): IAttributeProto => ({ name, type: AttrType.INTS, ints }),
  float: (name: string, f: number): IAttributeProto => ({ name, type: AttrType.FLOAT, f }),
  floats: (name: string, floats: number[]): IAttributeProto => ({ name, type: AttrType.FLOATS, floats }),
  string: (name: string, s: string): IAttributeProto => ({ name, type: AttrType.STRING, s: new TextEncoder().encode(s) }),
  strings: (name: string, strings: string[]): IAttributeProto => {
    const enc = new TextEncoder();
    return { name, type: AttrType.STRINGS, strings: strings.map((s) => enc.encode(s)) };
  },
  tensor: (name: string, t: ITensorProto): IAttributeProto => ({ name, type: AttrType.TENSOR, t }),
};

/** A tensor value description; a string dimension is symbolic (dynamic), a number is fixed. */
export function valueInfo(name: string, type: ElementType, shape: (number | string)[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function node(opType: string, input: string[], output: string[], attribute: IAttributeProto[] = [], domain = ''): INodeProto {
  return { opType, input, output, attribute, domain, name: `${opType}_${output[0]}` };
}

/** Human name of an ONNX TensorProto.DataType code (`tensor(float)` style, as ONNX tools print it). */
export function dataTypeName(code: number): string {
  const name = (DataType as unknown as Record<number, string>)[code];
  return name ? name.toLowerCase() : `unknown(${code})`;
}
