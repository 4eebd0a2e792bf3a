import CHDF5

/// An open HDF5 file. Datasets and groups are addressed by slash paths ("network/parameters");
/// missing intermediate groups are created on write. Every call holds the library-wide lock, so
/// files may be used from any thread, one call at a time. The file closes in `deinit` or `close()`.
///
/// Files written here are plain HDF5 that h5py opens: numeric datasets keep their shape,
/// strings are fixed-length byte strings, scalars are attributes or shape-[] datasets.
public final class HDF5File: @unchecked Sendable {  // all access to `handle` is serialised by HDF5Library's lock
    public enum Mode: Sendable { case readOnly, readWrite }

    public let path: String
    private var handle: hid_t

    private init(path: String, handle: hid_t) {
        self.path = path
        self.handle = handle
    }

    /// Creates (truncating) a file for writing.
    public static func create(_ path: String) throws -> HDF5File {
        try HDF5Library.withLock {
            // HDF5 1.8's file format (superblock 2, object headers 2) checksums every piece of
            // metadata, so a flipped byte in the file's structure is an error, not garbage.
            let access = H5Pcreate(colony_h5p_file_access())
            defer { H5Pclose(access) }
            H5Pset_libver_bounds(access, H5F_LIBVER_V18, H5F_LIBVER_V18)
            let creation = Self.untimedCreationProperties(colony_h5p_file_create())
            defer { H5Pclose(creation) }
            let id = H5Fcreate(path, colony_h5f_acc_trunc(), creation, access)
            guard id >= 0 else { throw HDF5Error(function: "H5Fcreate", path: path, detail: "cannot create the file (does the directory exist and is it writable?)") }
            return HDF5File(path: path, handle: id)
        }
    }

    /// Opens an existing file.
    public static func open(_ path: String, mode: Mode = .readOnly) throws -> HDF5File {
        try HDF5Library.withLock {
            guard H5Fis_hdf5(path) > 0 else {
                throw HDF5Error(function: "H5Fopen", path: path, detail: "no such file, or not an HDF5 file")
            }
            let flags = mode == .readOnly ? colony_h5f_acc_rdonly() : colony_h5f_acc_rdwr()
            let id = H5Fopen(path, flags, colony_h5p_default())
            // The signature was there, the rest not: most often a copy or write cut short.
            guard id >= 0 else { throw HDF5Error(function: "H5Fopen", path: path, detail: "the file is truncated or damaged") }
            return HDF5File(path: path, handle: id)
        }
    }

    deinit { close() }

    /// Flushes and closes the file; later calls throw.
    public func close() {
        HDF5Library.withLock {
            if handle >= 0 {
                H5Fclose(handle)
                handle = -1
            }
        }
    }

    private func openHandle(_ function: String, _ object: String) throws -> hid_t {
        guard handle >= 0 else { throw HDF5Error(function: function, path: "\(path):\(object)", detail: "the file is closed") }
        return handle
    }

    // MARK: Existence and listing

    /// Whether a group or dataset exists at `object` (every path component is checked in turn).
    public func contains(_ object: String) -> Bool {
        HDF5Library.withLock {
            guard handle >= 0 else { return false }
            return linkExists(object)
        }
    }

    private func linkExists(_ object: String) -> Bool {
        var prefix = ""
        for component in object.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + component
            if H5Lexists(handle, prefix, colony_h5p_default()) <= 0 { return false }
        }
        return true
    }

    /// Names of the members of a group ("" or "/" for the root), sorted.
    public func members(of group: String = "/") throws -> [String] {
        try HDF5Library.withLock {
            let file = try openHandle("H5Gopen2", group)
            let name = group.isEmpty ? "/" : group
            let gid = H5Gopen2(file, name, colony_h5p_default())
            guard gid >= 0 else { throw HDF5Error(function: "H5Gopen2", path: "\(path):\(name)", detail: "no such group") }
            defer { H5Gclose(gid) }
            var info = H5G_info_t()
            guard H5Gget_info(gid, &info) >= 0 else { throw HDF5Error(function: "H5Gget_info", path: "\(path):\(name)") }
            var names: [String] = []
            for index in 0..<info.nlinks {
                let length = H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, colony_h5p_default())
                guard length >= 0 else { continue }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, Int(length) + 1, colony_h5p_default())
                names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            return names.sorted()
        }
    }

    // MARK: Numeric datasets

    /// Writes `values` with `shape` (default: one dimension) at `object`, replacing any existing dataset.
    public func write<T: HDF5Element>(_ values: [T], shape: [Int]? = nil, at object: String) throws {
        let dims = shape ?? [values.count]
        guard dims.reduce(1, *) == values.count else {
            throw HDF5Error(function: "write", path: "\(path):\(object)", detail: "shape \(dims) holds \(dims.reduce(1, *)) values, got \(values.count)")
        }
        try HDF5Library.withLock {
            let file = try openHandle("H5Dcreate2", object)
            try removeIfPresent(object)
            var hdims = dims.map { hsize_t($0) }
            let space = H5Screate_simple(Int32(hdims.count), &hdims, nil)
            guard space >= 0 else { throw HDF5Error(function: "H5Screate_simple", path: "\(path):\(object)") }
            defer { H5Sclose(space) }
            try createParentGroups(of: object, in: file)
            let creation = Self.untimedCreationProperties(colony_h5p_dataset_create())
            defer { H5Pclose(creation) }
            let dataset = H5Dcreate2(file, object, T.hdf5NativeType.id, space, colony_h5p_default(), creation, colony_h5p_default())
            guard dataset >= 0 else { throw HDF5Error(function: "H5Dcreate2", path: "\(path):\(object)") }
            defer { H5Dclose(dataset) }
            let status = values.withUnsafeBytes { bytes in
                H5Dwrite(dataset, T.hdf5NativeType.id, colony_h5s_all(), colony_h5s_all(), colony_h5p_default(), bytes.baseAddress)
            }
            guard status >= 0 else { throw HDF5Error(function: "H5Dwrite", path: "\(path):\(object)") }
            try writeChecksum(values.withUnsafeBytes { DatasetChecksum.of($0) }, on: dataset, object)
        }
    }

    /// Writes a single number as a shape-[] dataset.
    public func writeScalar<T: HDF5Element>(_ value: T, at object: String) throws {
        try write([value], shape: [], at: object)
    }

    /// Reads a numeric dataset stored as `T` (or, with `convertingFrom`, as one of those types too,
    /// which HDF5 converts), with its shape. A dataset of another type is refused rather than
    /// converted: a checkpoint rewritten by another tool with another dtype could otherwise load
    /// rounded or wrapped values without a word. Where the writer stored a checksum, the values must match it.
    public func read<T: HDF5Element>(
        _ type: T.Type = T.self, at object: String, convertingFrom accepted: [any HDF5Element.Type] = []
    ) throws -> (values: [T], shape: [Int]) {
        try HDF5Library.withLock {
            let file = try openHandle("H5Dopen2", object)
            guard linkExists(object) else { throw HDF5Error(function: "H5Dopen2", path: "\(path):\(object)", detail: "no such dataset") }
            let dataset = H5Dopen2(file, object, colony_h5p_default())
            guard dataset >= 0 else { throw HDF5Error(function: "H5Dopen2", path: "\(path):\(object)", detail: "not a dataset") }
            defer { H5Dclose(dataset) }
            let (storedElementBytes, storedAsT) = try checkStoredType(of: dataset, object, expected: T.hdf5NativeType, accepted: accepted.map { $0.hdf5NativeType })
            let shape = try datasetShape(dataset, object)
            // The shape comes from the file: its values must fit in what the file stores for them
            // before anything that large is allocated.
            let storedBytes = H5Dget_storage_size(dataset)
            guard let count = DatasetChecksum.elementCount(shape), UInt64(count) <= storedBytes / UInt64(max(1, storedElementBytes)) else {
                throw HDF5Error(function: "H5Dread", path: "\(path):\(object)", detail: "its shape \(shape) does not fit the \(storedBytes) bytes stored")
            }
            var values = [T](repeating: T.zero, count: count)
            let status = values.withUnsafeMutableBytes { bytes in
                H5Dread(dataset, T.hdf5NativeType.id, colony_h5s_all(), colony_h5s_all(), colony_h5p_default(), bytes.baseAddress)
            }
            guard status >= 0 else { throw HDF5Error(function: "H5Dread", path: "\(path):\(object)", detail: "cannot read as \(T.self)") }
            // The checksum covers the values as stored; converted ones (an older format's other
            // dtype, written before checksums existed) have none to compare with.
            if storedAsT {
                try verifyChecksum(of: dataset, object) { values.withUnsafeBytes { DatasetChecksum.of($0) } }
            }
            return (values, shape)
        }
    }

    /// Where a contiguous dataset's values start in the file, in bytes (nil for other layouts): for
    /// tools and tests that patch values in place, as h5py's `dataset[...] = x` does.
    public func dataOffset(of object: String) throws -> Int? {
        try HDF5Library.withLock {
            let file = try openHandle("H5Dopen2", object)
            guard linkExists(object) else { throw HDF5Error(function: "H5Dopen2", path: "\(path):\(object)", detail: "no such dataset") }
            let dataset = H5Dopen2(file, object, colony_h5p_default())
            guard dataset >= 0 else { throw HDF5Error(function: "H5Dopen2", path: "\(path):\(object)", detail: "not a dataset") }
            defer { H5Dclose(dataset) }
            let offset = H5Dget_offset(dataset)
            return offset == haddr_t.max ? nil : Int(exactly: offset)
        }
    }

    /// Reads a shape-[] or one-element dataset.
    public func readScalar<T: HDF5Element>(_ type: T.Type = T.self, at object: String) throws -> T {
        let (values, _) = try read(T.self, at: object)
        guard values.count == 1 else {
            throw HDF5Error(function: "readScalar", path: "\(path):\(object)", detail: "expected one value, found \(values.count)")
        }
        return values[0]
    }

    private func datasetShape(_ dataset: hid_t, _ object: String) throws -> [Int] {
        let space = H5Dget_space(dataset)
        guard space >= 0 else { throw HDF5Error(function: "H5Dget_space", path: "\(path):\(object)") }
        defer { H5Sclose(space) }
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { throw HDF5Error(function: "H5Sget_simple_extent_ndims", path: "\(path):\(object)") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        H5Sget_simple_extent_dims(space, &dims, nil)
        return try dims.map { dimension in
            guard let size = Int(exactly: dimension) else {
                throw HDF5Error(function: "H5Sget_simple_extent_dims", path: "\(path):\(object)", detail: "dimension \(dimension) is out of range")
            }
            return size
        }
    }

    // MARK: Strings

    /// Writes UTF-8 text as a fixed-length byte-string dataset (h5py reads it as `bytes`).
    public func writeString(_ text: String, at object: String) throws {
        let bytes = Array(text.utf8)
        try HDF5Library.withLock {
            let file = try openHandle("H5Dcreate2", object)
            try removeIfPresent(object)
            let type = try fixedStringType(length: bytes.count)
            defer { H5Tclose(type) }
            let space = H5Screate(H5S_SCALAR)
            defer { H5Sclose(space) }
            try createParentGroups(of: object, in: file)
            let creation = Self.untimedCreationProperties(colony_h5p_dataset_create())
            defer { H5Pclose(creation) }
            let dataset = H5Dcreate2(file, object, type, space, colony_h5p_default(), creation, colony_h5p_default())
            guard dataset >= 0 else { throw HDF5Error(function: "H5Dcreate2", path: "\(path):\(object)") }
            defer { H5Dclose(dataset) }
            let padded = bytes.isEmpty ? [UInt8(0)] : bytes
            let status = padded.withUnsafeBytes { H5Dwrite(dataset, type, colony_h5s_all(), colony_h5s_all(), colony_h5p_default(), $0.baseAddress) }
            guard status >= 0 else { throw HDF5Error(function: "H5Dwrite", path: "\(path):\(object)") }
            try writeChecksum(padded.withUnsafeBytes { DatasetChecksum.of($0) }, on: dataset, object)
        }
    }

    /// Reads a string dataset, fixed-length or variable-length (as h5py writes `str`).
    public func readString(at object: String) throws -> String {
        try HDF5Library.withLock {
            let file = try openHandle("H5Dopen2", object)
            guard linkExists(object) else { throw HDF5Error(function: "H5Dopen2", path: "\(path):\(object)", detail: "no such dataset") }
            let dataset = H5Dopen2(file, object, colony_h5p_default())
            guard dataset >= 0 else { throw HDF5Error(function: "H5Dopen2", path: "\(path):\(object)") }
            defer { H5Dclose(dataset) }
            let type = H5Dget_type(dataset)
            defer { H5Tclose(type) }
            guard H5Tget_class(type) == H5T_STRING else {
                throw HDF5Error(function: "readString", path: "\(path):\(object)", detail: "not a string dataset")
            }
            if H5Tis_variable_str(type) > 0 {
                var pointer: UnsafeMutablePointer<CChar>? = nil
                let memoryType = H5Tcopy(colony_h5t_c_s1())
                defer { H5Tclose(memoryType) }
                H5Tset_size(memoryType, colony_h5t_variable())
                guard H5Dread(dataset, memoryType, colony_h5s_all(), colony_h5s_all(), colony_h5p_default(), &pointer) >= 0, let pointer else {
                    throw HDF5Error(function: "H5Dread", path: "\(path):\(object)")
                }
                defer { free(pointer) }
                return String(cString: pointer)
            }
            let size = H5Tget_size(type)
            guard try datasetShape(dataset, object).allSatisfy({ $0 == 1 }) else {
                throw HDF5Error(function: "readString", path: "\(path):\(object)", detail: "not a single string")
            }
            var buffer = [UInt8](repeating: 0, count: size + 1)
            guard H5Dread(dataset, type, colony_h5s_all(), colony_h5s_all(), colony_h5p_default(), &buffer) >= 0 else {
                throw HDF5Error(function: "H5Dread", path: "\(path):\(object)")
            }
            try verifyChecksum(of: dataset, object) { buffer.withUnsafeBytes { DatasetChecksum.of(UnsafeRawBufferPointer(rebasing: $0[..<size])) } }
            let end = buffer.firstIndex(of: 0) ?? size
            return String(decoding: buffer[..<end], as: UTF8.self)
        }
    }

    // MARK: Attributes

    /// Sets a string attribute on a group or dataset ("/" for the file).
    public func setAttribute(_ name: String, _ text: String, on object: String = "/") throws {
        let bytes = Array(text.utf8)
        try withAttributeTarget(object) { target in
            let type = try fixedStringType(length: bytes.count)
            defer { H5Tclose(type) }
            let padded = bytes.isEmpty ? [UInt8(0)] : bytes
            try writeAttribute(name, target: target, type: type, object: object) { attribute in
                padded.withUnsafeBytes { H5Awrite(attribute, type, $0.baseAddress) }
            }
        }
    }

    /// Sets a numeric attribute on a group or dataset ("/" for the file).
    public func setAttribute<T: HDF5Element>(_ name: String, _ value: T, on object: String = "/") throws {
        try withAttributeTarget(object) { target in
            try writeAttribute(name, target: target, type: T.hdf5NativeType.id, object: object) { attribute in
                withUnsafeBytes(of: value) { H5Awrite(attribute, T.hdf5NativeType.id, $0.baseAddress) }
            }
        }
    }

    /// Reads a string attribute.
    public func stringAttribute(_ name: String, on object: String = "/") throws -> String {
        try withAttribute(name, on: object) { attribute in
            let type = H5Aget_type(attribute)
            defer { H5Tclose(type) }
            guard H5Tget_class(type) == H5T_STRING else {
                throw HDF5Error(function: "stringAttribute", path: "\(path):\(object)@\(name)", detail: "not a string")
            }
            if H5Tis_variable_str(type) > 0 {
                var pointer: UnsafeMutablePointer<CChar>? = nil
                guard H5Aread(attribute, type, &pointer) >= 0, let pointer else {
                    throw HDF5Error(function: "H5Aread", path: "\(path):\(object)@\(name)")
                }
                defer { free(pointer) }
                return String(cString: pointer)
            }
            let size = H5Tget_size(type)
            var buffer = [UInt8](repeating: 0, count: size + 1)
            guard H5Aread(attribute, type, &buffer) >= 0 else { throw HDF5Error(function: "H5Aread", path: "\(path):\(object)@\(name)") }
            let end = buffer.firstIndex(of: 0) ?? size
            return String(decoding: buffer[..<end], as: UTF8.self)
        }
    }

    /// Reads a numeric attribute, converting to `T`.
    public func attribute<T: HDF5Element>(_ name: String, as type: T.Type = T.self, on object: String = "/") throws -> T {
        try withAttribute(name, on: object) { attribute in
            var value = T.zero
            let status = withUnsafeMutableBytes(of: &value) { H5Aread(attribute, T.hdf5NativeType.id, $0.baseAddress) }
            guard status >= 0 else { throw HDF5Error(function: "H5Aread", path: "\(path):\(object)@\(name)", detail: "cannot read as \(T.self)") }
            return value
        }
    }

    // MARK: Helpers (called with the lock held)

    private func writeChecksum(_ checksum: UInt64, on dataset: hid_t, _ object: String) throws {
        let type = UInt64.hdf5NativeType.id
        try writeAttribute(DatasetChecksum.attribute, target: dataset, type: type, object: object) { attribute in
            withUnsafeBytes(of: checksum) { H5Awrite(attribute, type, $0.baseAddress) }
        }
    }

    /// Compares the checksum the writer stored (files written before checksums existed have none)
    /// with the one of the values read.
    private func verifyChecksum(of dataset: hid_t, _ object: String, _ computed: () -> UInt64) throws {
        guard H5Aexists(dataset, DatasetChecksum.attribute) > 0 else { return }
        let attribute = H5Aopen(dataset, DatasetChecksum.attribute, colony_h5p_default())
        guard attribute >= 0 else { throw HDF5Error(function: "H5Aopen", path: "\(path):\(object)@\(DatasetChecksum.attribute)") }
        defer { H5Aclose(attribute) }
        var stored: UInt64 = 0
        guard withUnsafeMutableBytes(of: &stored, { H5Aread(attribute, UInt64.hdf5NativeType.id, $0.baseAddress) }) >= 0 else {
            throw HDF5Error(function: "H5Aread", path: "\(path):\(object)@\(DatasetChecksum.attribute)")
        }
        guard stored == computed() else {
            throw HDF5Error(function: "checksum", path: "\(path):\(object)", detail: "the data does not match the checksum written with it (the file is damaged or was edited)")
        }
    }

    /// Refuses a dataset whose stored type is neither `expected` nor one of `accepted`.
    /// Returns the size of one stored value in bytes and whether the values are stored as `expected`.
    private func checkStoredType(of dataset: hid_t, _ object: String, expected: HDF5NativeType, accepted: [HDF5NativeType]) throws -> (bytes: Int, exact: Bool) {
        let stored = H5Dget_type(dataset)
        guard stored >= 0 else { throw HDF5Error(function: "H5Dget_type", path: "\(path):\(object)") }
        defer { H5Tclose(stored) }
        let matches = { (native: HDF5NativeType) in
            H5Tget_class(stored) == H5Tget_class(native.id) && H5Tget_size(stored) == H5Tget_size(native.id)
                && (H5Tget_class(stored) != H5T_INTEGER || H5Tget_sign(stored) == H5Tget_sign(native.id))
        }
        guard matches(expected) || accepted.contains(where: matches) else {
            throw HDF5Error(
                function: "read", path: "\(path):\(object)",
                detail: "stored as \(Self.typeName(stored)) where Colony writes \(Self.typeName(expected.id)) (the file was rewritten by another program)")
        }
        return (H5Tget_size(stored), matches(expected))
    }

    /// "32-bit float", "64-bit signed integer", "string", ... for error messages.
    private static func typeName(_ type: hid_t) -> String {
        let bits = H5Tget_size(type) * 8
        switch H5Tget_class(type) {
        case H5T_FLOAT: return "\(bits)-bit float"
        case H5T_INTEGER: return "\(bits)-bit \(H5Tget_sign(type) == H5T_SGN_NONE ? "unsigned" : "signed") integer"
        case H5T_STRING: return "string"
        default: return "a non-numeric type"
        }
    }

    private func removeIfPresent(_ object: String) throws {
        if linkExists(object), H5Ldelete(handle, object, colony_h5p_default()) < 0 {
            throw HDF5Error(function: "H5Ldelete", path: "\(path):\(object)")
        }
    }

    /// Object creation properties without modification times: a checkpoint of the same state is then the
    /// same bytes (population lineages compare checkpoints by SHA-256).
    private static func untimedCreationProperties(_ propertyClass: hid_t) -> hid_t {
        let properties = H5Pcreate(propertyClass)
        H5Pset_obj_track_times(properties, false)
        return properties
    }

    /// Creates the groups above `object` that do not exist yet (untimed, as every object Colony writes).
    private func createParentGroups(of object: String, in file: hid_t) throws {
        var prefix = ""
        for component in object.split(separator: "/").dropLast() {
            prefix += (prefix.isEmpty ? "" : "/") + component
            guard H5Lexists(file, prefix, colony_h5p_default()) <= 0 else { continue }
            try createGroup(prefix, in: file)
        }
    }

    private func createGroup(_ name: String, in file: hid_t) throws {
        let creation = Self.untimedCreationProperties(colony_h5p_group_create())
        defer { H5Pclose(creation) }
        let group = H5Gcreate2(file, name, colony_h5p_default(), creation, colony_h5p_default())
        guard group >= 0 else { throw HDF5Error(function: "H5Gcreate2", path: "\(path):\(name)") }
        H5Gclose(group)
    }

    private func fixedStringType(length: Int) throws -> hid_t {
        let type = H5Tcopy(colony_h5t_c_s1())
        guard type >= 0, H5Tset_size(type, max(1, length)) >= 0 else { throw HDF5Error(function: "H5Tset_size", path: path) }
        H5Tset_strpad(type, H5T_STR_NULLPAD)
        H5Tset_cset(type, H5T_CSET_UTF8)
        return type
    }

    /// Opens the object an attribute hangs on, creating the group when it does not exist yet.
    private func withAttributeTarget(_ object: String, _ body: (hid_t) throws -> Void) throws {
        try HDF5Library.withLock {
            let file = try openHandle("H5Oopen", object)
            let name = object.isEmpty ? "/" : object
            if name != "/" && !linkExists(name) {
                try createParentGroups(of: name, in: file)
                try createGroup(name, in: file)
            }
            let target = H5Oopen(file, name, colony_h5p_default())
            guard target >= 0 else { throw HDF5Error(function: "H5Oopen", path: "\(path):\(name)") }
            defer { H5Oclose(target) }
            try body(target)
        }
    }

    private func writeAttribute(_ name: String, target: hid_t, type: hid_t, object: String, write: (hid_t) -> herr_t) throws {
        if H5Aexists(target, name) > 0 { H5Adelete(target, name) }
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(target, name, type, space, colony_h5p_default(), colony_h5p_default())
        guard attribute >= 0 else { throw HDF5Error(function: "H5Acreate2", path: "\(path):\(object)@\(name)") }
        defer { H5Aclose(attribute) }
        guard write(attribute) >= 0 else { throw HDF5Error(function: "H5Awrite", path: "\(path):\(object)@\(name)") }
    }

    private func withAttribute<R>(_ name: String, on object: String, _ body: (hid_t) throws -> R) throws -> R {
        try HDF5Library.withLock {
            let file = try openHandle("H5Aopen_by_name", object)
            let owner = object.isEmpty ? "/" : object
            guard owner == "/" || linkExists(owner), H5Aexists_by_name(file, owner, name, colony_h5p_default()) > 0 else {
                throw HDF5Error(function: "H5Aopen_by_name", path: "\(path):\(owner)@\(name)", detail: "no such attribute")
            }
            let attribute = H5Aopen_by_name(file, owner, name, colony_h5p_default(), colony_h5p_default())
            guard attribute >= 0 else { throw HDF5Error(function: "H5Aopen_by_name", path: "\(path):\(owner)@\(name)") }
            defer { H5Aclose(attribute) }
            return try body(attribute)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
