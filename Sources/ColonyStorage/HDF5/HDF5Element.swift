import CHDF5

/// HDF5's identifier of a native scalar type, opaque outside ColonyStorage (the library's `hid_t`
/// stays an implementation detail of this module).
public struct HDF5NativeType: Sendable {
    let id: hid_t
}

/// A scalar type stored natively in HDF5 datasets and attributes.
public protocol HDF5Element: Sendable {
    static var hdf5NativeType: HDF5NativeType { get }
    static var zero: Self { get }
}

extension Float: HDF5Element {
    public static var hdf5NativeType: HDF5NativeType { HDF5NativeType(id: colony_h5t_native_float()) }
    public static var zero: Float { 0 }
}

extension Double: HDF5Element {
    public static var hdf5NativeType: HDF5NativeType { HDF5NativeType(id: colony_h5t_native_double()) }
    public static var zero: Double { 0 }
}

extension Int64: HDF5Element {
    public static var hdf5NativeType: HDF5NativeType { HDF5NativeType(id: colony_h5t_native_int64()) }
    public static var zero: Int64 { 0 }
}

extension UInt64: HDF5Element {
    public static var hdf5NativeType: HDF5NativeType { HDF5NativeType(id: colony_h5t_native_uint64()) }
    public static var zero: UInt64 { 0 }
}

extension Int32: HDF5Element {
    public static var hdf5NativeType: HDF5NativeType { HDF5NativeType(id: colony_h5t_native_int32()) }
    public static var zero: Int32 { 0 }
}

extension UInt8: HDF5Element {
    public static var hdf5NativeType: HDF5NativeType { HDF5NativeType(id: colony_h5t_native_uint8()) }
    public static var zero: UInt8 { 0 }
}
