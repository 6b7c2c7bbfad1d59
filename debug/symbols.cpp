// debug/symbols.cpp: an ELF file's function symbols, read with pread and bounds-checked throughout: the
// file is untrusted input (truncated, corrupt, not ELF at all), which yields no symbols, never a crash.
#include "debug/symbols.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <unordered_map>

namespace hpy::debug {
namespace {

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
constexpr unsigned char kNativeData = ELFDATA2MSB;
#else
constexpr unsigned char kNativeData = ELFDATA2LSB;
#endif

// [offset, offset + length) lies within a file of `size` bytes (no overflow possible).
bool within(uint64_t offset, uint64_t length, uint64_t size)
{
    return offset <= size && length <= size - offset;
}

// A read-only file whose reads fail unless they lie wholly inside it.
class Reader {
public:
    explicit Reader(const std::string &path) : fd_(open(path.c_str(), O_RDONLY | O_CLOEXEC))
    {
        struct stat st;
        if (fd_ >= 0 && fstat(fd_, &st) == 0 && S_ISREG(st.st_mode))
            size_ = static_cast<uint64_t>(st.st_size);
    }
    ~Reader()
    {
        if (fd_ >= 0)
            close(fd_);
    }
    Reader(const Reader &) = delete;
    Reader &operator=(const Reader &) = delete;

    uint64_t size() const { return size_; }

    bool read(uint64_t offset, uint64_t length, void *out) const
    {
        if (fd_ < 0 || !within(offset, length, size_))
            return false;
        char *p = static_cast<char *>(out);
        while (length > 0) {
            ssize_t n = pread(fd_, p, length, static_cast<off_t>(offset));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return false;  // an error, or the file shrank meanwhile
            p += n;
            offset += static_cast<uint64_t>(n);
            length -= static_cast<uint64_t>(n);
        }
        return true;
    }

    bool read(uint64_t offset, uint64_t length, std::vector<char> &out) const
    {
        if (!within(offset, length, size_))
            return false;  // before allocating: a corrupt size must not allocate gigabytes
        out.resize(length);
        return read(offset, length, out.data());
    }

private:
    int fd_;
    uint64_t size_ = 0;
};

int binding_rank(uint8_t binding)
{
    switch (binding) {
    case STB_GLOBAL:
        return 0;
    case STB_WEAK:
        return 1;
    default:
        return 2;
    }
}

// The function symbols of the symbol table section `symtab` (its string table is section sh_link).
std::vector<FunctionSymbol> read_functions(const Reader &file, const std::vector<Elf64_Shdr> &sections,
                                           const Elf64_Shdr &symtab)
{
    std::vector<FunctionSymbol> out;
    uint64_t entsize = symtab.sh_entsize;
    if (entsize < sizeof(Elf64_Sym) || symtab.sh_link >= sections.size())
        return out;
    const Elf64_Shdr &strtab = sections[symtab.sh_link];
    std::vector<char> strings, entries;
    if (strtab.sh_type != SHT_STRTAB || !file.read(strtab.sh_offset, strtab.sh_size, strings) ||
        !file.read(symtab.sh_offset, symtab.sh_size, entries))
        return out;
    for (uint64_t at = 0; within(at, entsize, entries.size()); at += entsize) {
        Elf64_Sym sym;
        memcpy(&sym, entries.data() + at, sizeof sym);
        unsigned char type = ELF64_ST_TYPE(sym.st_info);
        if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF || sym.st_size == 0 ||
            sym.st_value > std::numeric_limits<uint64_t>::max() - sym.st_size ||
            sym.st_name >= strings.size())
            continue;
        const char *name = strings.data() + sym.st_name;
        const void *end = memchr(name, '\0', strings.size() - sym.st_name);
        if (end == nullptr || end == name)
            continue;  // unterminated or empty
        out.push_back({sym.st_value, sym.st_size, static_cast<uint8_t>(ELF64_ST_BIND(sym.st_info)),
                       std::string(name, static_cast<const char *>(end))});
    }
    return out;
}

}  // namespace

SymbolTable SymbolTable::read(const std::string &path)
{
    SymbolTable table;
    Reader file(path);
    Elf64_Ehdr eh;
    if (!file.read(0, sizeof eh, &eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != kNativeData || eh.e_shoff == 0 ||
        eh.e_shentsize != sizeof(Elf64_Shdr))
        return table;

    // Section headers; with more than SHN_LORESERVE sections (or program headers), the counts are kept
    // in the first section header.
    Elf64_Shdr first;
    if (!file.read(eh.e_shoff, sizeof first, &first))
        return table;
    uint64_t shnum = eh.e_shnum != 0 ? eh.e_shnum : first.sh_size;
    uint64_t phnum = eh.e_phnum != PN_XNUM ? eh.e_phnum : first.sh_info;
    if (shnum == 0 || shnum > file.size() / sizeof(Elf64_Shdr))
        return table;
    std::vector<Elf64_Shdr> sections(shnum);
    if (!file.read(eh.e_shoff, shnum * sizeof(Elf64_Shdr), sections.data()))
        return table;

    // The load base stands for the lowest PT_LOAD address, rounded down to a page as the loader maps it.
    if (phnum != 0) {
        if (eh.e_phentsize != sizeof(Elf64_Phdr) || phnum > file.size() / sizeof(Elf64_Phdr))
            return table;
        std::vector<Elf64_Phdr> segments(phnum);
        if (!file.read(eh.e_phoff, phnum * sizeof(Elf64_Phdr), segments.data()))
            return table;
        uint64_t lowest = std::numeric_limits<uint64_t>::max();
        for (const Elf64_Phdr &ph : segments)
            if (ph.p_type == PT_LOAD)
                lowest = std::min<uint64_t>(lowest, ph.p_vaddr);
        if (lowest != std::numeric_limits<uint64_t>::max()) {
            long page = sysconf(_SC_PAGESIZE);
            uint64_t mask = page > 0 ? static_cast<uint64_t>(page) - 1 : 4095;
            table.load_vaddr_ = lowest & ~mask;
        }
    }

    // The full table when the file still has one, else the dynamic one.
    for (Elf64_Word kind : {SHT_SYMTAB, SHT_DYNSYM}) {
        for (const Elf64_Shdr &sh : sections)
            if (sh.sh_type == kind) {
                table.symbols_ = read_functions(file, sections, sh);
                break;
            }
        if (!table.symbols_.empty())
            break;
    }

    std::sort(table.symbols_.begin(), table.symbols_.end(),
              [](const FunctionSymbol &a, const FunctionSymbol &b) {
                  if (a.start != b.start)
                      return a.start < b.start;
                  return binding_rank(a.binding) < binding_rank(b.binding);
              });
    table.max_end_.reserve(table.symbols_.size());
    uint64_t max_end = 0;
    for (const FunctionSymbol &s : table.symbols_) {
        max_end = std::max(max_end, s.start + s.size);
        table.max_end_.push_back(max_end);
    }
    return table;
}

const char *SymbolTable::name_at(uint64_t offset) const
{
    if (offset > std::numeric_limits<uint64_t>::max() - load_vaddr_)
        return nullptr;
    uint64_t address = offset + load_vaddr_;
    auto after = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                                  [](uint64_t a, const FunctionSymbol &s) { return a < s.start; });
    // Walk back over the symbols starting at or before the address while one of them may still reach it.
    const FunctionSymbol *best = nullptr;
    for (size_t i = static_cast<size_t>(after - symbols_.begin()); i > 0 && max_end_[i - 1] > address; --i) {
        const FunctionSymbol &s = symbols_[i - 1];
        if (address - s.start >= s.size)
            continue;
        if (best == nullptr || s.size < best->size ||
            (s.size == best->size && binding_rank(s.binding) <= binding_rank(best->binding)))
            best = &s;
    }
    return best ? best->name.c_str() : nullptr;
}

std::string SymbolTable::function_at(uint64_t offset) const
{
    const char *name = name_at(offset);
    return name ? name : "";
}

std::string elf_function_at(const char *path, uint64_t offset)
{
    struct Entry {
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime;
        SymbolTable table;
    };
    // Kept for the life of the process, like the debug context's own state: a report may be made from
    // an exit handler, after static destructors have run.
    static auto &cache = *new std::unordered_map<std::string, Entry>;
    struct stat st;
    if (path == nullptr || stat(path, &st) != 0) {
        if (path != nullptr)
            cache.erase(path);
        return "";
    }
    auto it = cache.find(path);
    if (it == cache.end() || it->second.dev != st.st_dev || it->second.ino != st.st_ino ||
        it->second.size != st.st_size || it->second.mtime.tv_sec != st.st_mtim.tv_sec ||
        it->second.mtime.tv_nsec != st.st_mtim.tv_nsec)
        it = cache
                 .insert_or_assign(
                     path, Entry{st.st_dev, st.st_ino, st.st_size, st.st_mtim, SymbolTable::read(path)})
                 .first;
    return it->second.table.function_at(offset);
}

}  // namespace hpy::debug
