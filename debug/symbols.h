// debug/symbols.h: function names from an ELF file's own symbol table; plain C++, no interpreter needed.
//
// Stack traces of the debug context name a frame through dladdr, which sees only exported (dynamic)
// symbols. The static functions of an extension (`static HPy f_impl(...)`) are named here instead, from
// the file's `.symtab` (or `.dynsym` when the file has been stripped of it), read in-process: no
// binutils needed at run time. Only reports pay for it: a file is read the first time one of its frames
// is named, and its table is kept.
//
// Offsets are relative to the file's load base, as dladdr gives them (`pc - dli_fbase`): the loader maps
// the lowest PT_LOAD segment, its address rounded down to a page, at that base. 64-bit ELF files in the
// machine's own byte order are read; anything else (another class, a truncated or corrupt file, a
// missing one) has no symbols.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hpy::debug {

struct FunctionSymbol {
    uint64_t start = 0;  // virtual address (st_value)
    uint64_t size = 0;
    uint8_t binding = 0;  // STB_*
    std::string name;
};

class SymbolTable {
public:
    // The function symbols (STT_FUNC, STT_GNU_IFUNC; local ones too) of the ELF file at `path`, from its
    // `.symtab`, else its `.dynsym`. Empty when the file cannot be read or is not such an ELF file.
    static SymbolTable read(const std::string &path);

    // The name of the function whose [start, start + size) holds `offset` (from the load base); the
    // innermost one when ranges nest, a global name before a local alias. "" when none does.
    std::string function_at(uint64_t offset) const;
    // The same name without allocating (a pointer into the table, nullptr when none): safe in a signal
    // handler once the table has been read.
    const char *name_at(uint64_t offset) const;

    bool empty() const { return symbols_.empty(); }
    size_t size() const { return symbols_.size(); }
    // The virtual address the load base stands for (the lowest PT_LOAD's p_vaddr, page-aligned down).
    uint64_t load_vaddr() const { return load_vaddr_; }

private:
    std::vector<FunctionSymbol> symbols_;  // sorted by start
    std::vector<uint64_t> max_end_;        // max_end_[i]: the largest end among symbols_[0..i]
    uint64_t load_vaddr_ = 0;
};

// SymbolTable::read(path).function_at(offset), each file read once: the table is kept per path and read
// again only when the file has changed (device, inode, size, modification time). Not thread-safe: the
// caller serialises (the debug context runs under the GIL).
std::string elf_function_at(const char *path, uint64_t offset);

}  // namespace hpy::debug
