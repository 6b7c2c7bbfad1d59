// tests/unit/test_debug_symbols.cpp: GoogleTest tests of the in-process ELF symbol reader
// (debug/symbols.cpp): this test binary's own static functions, libc's dynamic symbols, a synthetic
// ELF file with a known layout, and bad input (missing, truncated, random, mutated files).
#include "debug/symbols.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" {
// Static functions of the test binary, which dladdr cannot name: C linkage keeps their names plain.
__attribute__((noinline)) static int symbols_probe_one(int x)
{
    return x * 3 + 1;
}
__attribute__((noinline)) static int symbols_probe_two(int x)
{
    return x * 5 - 2;
}
}

namespace {

using hpy::debug::elf_function_at;
using hpy::debug::SymbolTable;

// A temporary directory, removed with its files at the end of the test.
class TempDir {
public:
    TempDir()
    {
        const char *base = getenv("TMPDIR");
        path_ = std::string(base && *base ? base : "/tmp") + "/hpy-symbols-XXXXXX";
        if (mkdtemp(path_.data()) == nullptr)
            path_.clear();
    }
    ~TempDir()
    {
        for (const std::string &f : files_)
            unlink(f.c_str());
        if (!path_.empty())
            rmdir(path_.c_str());
    }
    bool ok() const { return !path_.empty(); }
    std::string write(const std::string &name, const std::vector<char> &data)
    {
        std::string file = path_ + "/" + name;
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        files_.push_back(file);
        return file;
    }

private:
    std::string path_;
    std::vector<std::string> files_;
};

std::vector<char> read_file(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The offset of `fn` from its file's load base, as the debug context computes it for a frame.
uint64_t offset_of(const void *fn)
{
    Dl_info info;
    if (dladdr(fn, &info) == 0)
        return 0;
    return static_cast<uint64_t>(static_cast<const char *>(fn) - static_cast<const char *>(info.dli_fbase));
}

template <typename F>
const void *address_of(F *fn)
{
    return reinterpret_cast<const void *>(fn);
}

// A small ELF file with a known layout: one PT_LOAD at `vaddr` (not page-aligned, so the load base
// stands for vaddr rounded down to a page) and function symbols around 0x401000 in a symbol table of
// type `kind` (SHT_SYMTAB or SHT_DYNSYM).
struct SynthSym {
    const char *name;
    uint64_t value, size;
    unsigned char bind, type;
    uint16_t shndx;
};

std::vector<char> synthetic_elf(Elf64_Word kind, uint64_t vaddr = 0x400040)
{
    const SynthSym syms[] = {
        {"alpha", 0x401000, 0x20, STB_GLOBAL, STT_FUNC, 1},
        {"beta_local", 0x401040, 0x10, STB_LOCAL, STT_FUNC, 1},  // an alias: the global name wins
        {"beta", 0x401040, 0x10, STB_GLOBAL, STT_FUNC, 1},
        {"outer", 0x402000, 0x100, STB_LOCAL, STT_FUNC, 1},
        {"inner", 0x402010, 0x10, STB_LOCAL, STT_FUNC, 1},  // nested: the innermost wins
        {"data", 0x403000, 0x10, STB_GLOBAL, STT_OBJECT, 1},
        {"undefined", 0x404000, 0x10, STB_GLOBAL, STT_FUNC, SHN_UNDEF},
        {"empty", 0x405000, 0, STB_GLOBAL, STT_FUNC, 1},
        {"resolver", 0x406000, 0x8, STB_GLOBAL, STT_GNU_IFUNC, 1},
    };
    std::string strings(1, '\0');
    std::vector<Elf64_Sym> table(1);  // entry 0 is the null symbol
    for (const SynthSym &s : syms) {
        Elf64_Sym sym{};
        sym.st_name = static_cast<Elf64_Word>(strings.size());
        sym.st_info = static_cast<unsigned char>(ELF64_ST_INFO(s.bind, s.type));
        sym.st_shndx = s.shndx;
        sym.st_value = s.value;
        sym.st_size = s.size;
        table.push_back(sym);
        strings += s.name;
        strings += '\0';
    }
    const size_t ph_off = sizeof(Elf64_Ehdr), sym_off = ph_off + sizeof(Elf64_Phdr);
    const size_t str_off = sym_off + table.size() * sizeof(Elf64_Sym);
    const size_t sh_off = (str_off + strings.size() + 7) & ~size_t{7};
    Elf64_Ehdr eh{};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_DYN;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = ph_off;
    eh.e_shoff = sh_off;
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 3;
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_vaddr = vaddr;
    ph.p_memsz = 0x10000;
    Elf64_Shdr sh[3]{};
    sh[1].sh_type = kind;
    sh[1].sh_offset = sym_off;
    sh[1].sh_size = table.size() * sizeof(Elf64_Sym);
    sh[1].sh_entsize = sizeof(Elf64_Sym);
    sh[1].sh_link = 2;
    sh[2].sh_type = SHT_STRTAB;
    sh[2].sh_offset = str_off;
    sh[2].sh_size = strings.size();
    std::vector<char> out(sh_off + sizeof sh);
    memcpy(out.data(), &eh, sizeof eh);
    memcpy(out.data() + ph_off, &ph, sizeof ph);
    memcpy(out.data() + sym_off, table.data(), table.size() * sizeof(Elf64_Sym));
    memcpy(out.data() + str_off, strings.data(), strings.size());
    memcpy(out.data() + sh_off, sh, sizeof sh);
    return out;
}

TEST(DebugSymbols, StaticFunctionOfTheTestBinaryByRuntimeAddress)
{
    ASSERT_EQ(symbols_probe_one(2) + symbols_probe_two(2), 15);
    uint64_t one = offset_of(address_of(&symbols_probe_one));
    uint64_t two = offset_of(address_of(&symbols_probe_two));
    ASSERT_NE(one, 0u);
    Dl_info info;
    ASSERT_NE(dladdr(address_of(&symbols_probe_one), &info), 0);
    EXPECT_EQ(info.dli_sname, nullptr) << "dladdr sees the static function; the test proves nothing";

    SymbolTable table = SymbolTable::read("/proc/self/exe");
    ASSERT_FALSE(table.empty());
    EXPECT_EQ(table.function_at(one), "symbols_probe_one");
    EXPECT_EQ(table.function_at(one + 1), "symbols_probe_one");  // inside, as a return address would be
    EXPECT_EQ(table.function_at(two), "symbols_probe_two");
    EXPECT_EQ(elf_function_at("/proc/self/exe", one), "symbols_probe_one");
    EXPECT_EQ(elf_function_at("/proc/self/exe", two), "symbols_probe_two");  // the kept table
    // Not functions: the ELF header at the very start, and far past the end of the image.
    EXPECT_EQ(table.function_at(0), "");
    EXPECT_EQ(table.function_at(uint64_t{1} << 40), "");
    EXPECT_EQ(table.function_at(~uint64_t{0}), "");
}

TEST(DebugSymbols, DynamicSymbolOfASharedLibrary)
{
    // libc as installed: usually stripped of .symtab, so .dynsym answers; either way, the name found
    // must be one the dynamic linker resolves to the same function.
    const void *fn = address_of(&qsort);
    Dl_info info;
    ASSERT_NE(dladdr(fn, &info), 0);
    ASSERT_NE(info.dli_fname, nullptr);
    ASSERT_NE(info.dli_saddr, nullptr);
    std::string name = elf_function_at(info.dli_fname, offset_of(info.dli_saddr));
    ASSERT_NE(name, "") << info.dli_fname;
    EXPECT_EQ(dlsym(RTLD_DEFAULT, name.c_str()), info.dli_saddr) << name;
}

TEST(DebugSymbols, SyntheticLayout)
{
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    for (Elf64_Word kind : {Elf64_Word{SHT_SYMTAB}, Elf64_Word{SHT_DYNSYM}}) {
        SCOPED_TRACE(kind);
        SymbolTable table = SymbolTable::read(dir.write("synth.so", synthetic_elf(kind)));
        EXPECT_EQ(table.load_vaddr(), 0x400000u);  // the PT_LOAD's 0x400040 rounded down to a page
        EXPECT_EQ(table.size(), 6u);               // alpha, beta_local, beta, outer, inner, resolver
        EXPECT_EQ(table.function_at(0x1000), "alpha");
        EXPECT_EQ(table.function_at(0x101f), "alpha");
        EXPECT_EQ(table.function_at(0x1020), "");  // between functions
        EXPECT_EQ(table.function_at(0x103f), "");
        EXPECT_EQ(table.function_at(0x1048), "beta");
        EXPECT_EQ(table.function_at(0x2008), "outer");
        EXPECT_EQ(table.function_at(0x2010), "inner");
        EXPECT_EQ(table.function_at(0x201f), "inner");
        EXPECT_EQ(table.function_at(0x2020), "outer");
        EXPECT_EQ(table.function_at(0x20ff), "outer");
        EXPECT_EQ(table.function_at(0x2100), "");
        EXPECT_EQ(table.function_at(0x3008), "");  // an object, not a function
        EXPECT_EQ(table.function_at(0x4008), "");  // undefined
        EXPECT_EQ(table.function_at(0x5000), "");  // no size
        EXPECT_EQ(table.function_at(0x6004), "resolver");
        EXPECT_EQ(table.function_at(0x100000), "");  // past the end
    }
    // A file whose lowest PT_LOAD is at 0 (a shared object): offsets are addresses.
    EXPECT_EQ(SymbolTable::read(dir.write("zero.so", synthetic_elf(SHT_SYMTAB, 0))).function_at(0x401000),
              "alpha");
}

TEST(DebugSymbols, CachedPerFileAndReadAgainWhenItChanges)
{
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    std::vector<char> elf = synthetic_elf(SHT_SYMTAB);
    std::string path = dir.write("changing.so", elf);
    EXPECT_EQ(elf_function_at(path.c_str(), 0x1000), "alpha");
    // The same symbols at another load address, and a different size, so the change is seen whatever
    // the clock's resolution.
    std::vector<char> moved = synthetic_elf(SHT_SYMTAB, 0);
    moved.resize(moved.size() + 64);
    dir.write("changing.so", moved);
    EXPECT_EQ(elf_function_at(path.c_str(), 0x401000), "alpha");
    EXPECT_EQ(elf_function_at(path.c_str(), 0x1000), "");
    unlink(path.c_str());
    EXPECT_EQ(elf_function_at(path.c_str(), 0x401000), "");
}

TEST(DebugSymbols, MissingFileHasNoSymbols)
{
    EXPECT_TRUE(SymbolTable::read("/nonexistent/hpy-symbols/missing.so").empty());
    EXPECT_EQ(elf_function_at("/nonexistent/hpy-symbols/missing.so", 0x1000), "");
    EXPECT_EQ(elf_function_at("/", 0x1000), "");  // a directory
    EXPECT_TRUE(SymbolTable::read("/dev/null").empty());
}

TEST(DebugSymbols, TruncatedCopiesOfARealFile)
{
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    std::vector<char> exe = read_file("/proc/self/exe");
    ASSERT_GT(exe.size(), 4096u);
    uint64_t one = offset_of(address_of(&symbols_probe_one));
    EXPECT_EQ(SymbolTable::read(dir.write("whole", exe)).function_at(one), "symbols_probe_one");
    const size_t lengths[] = {
        0, 1, 4, 16, 63, 64, 65, 200, 4096, exe.size() / 2, exe.size() - 64, exe.size() - 1};
    for (size_t n : lengths) {
        SCOPED_TRACE(n);
        std::vector<char> cut(exe.begin(), exe.begin() + static_cast<std::ptrdiff_t>(n));
        // The section headers come last: every cut loses (some of) them, and with them the symbols.
        EXPECT_EQ(SymbolTable::read(dir.write("cut", cut)).function_at(one), "");
    }
}

TEST(DebugSymbols, RandomBytesAndMutatedFiles)
{
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    std::mt19937 rng(20261121);
    for (size_t n : {size_t{64}, size_t{1000}, size_t{100000}}) {
        std::vector<char> noise(n);
        for (char &c : noise)
            c = static_cast<char>(rng());
        EXPECT_TRUE(SymbolTable::read(dir.write("noise", noise)).empty());
        memcpy(noise.data(), ELFMAG, SELFMAG);  // a plausible header over random fields
        noise[EI_CLASS] = ELFCLASS64;
        noise[EI_DATA] = ELFDATA2LSB;
        SymbolTable table = SymbolTable::read(dir.write("noise", noise));
        for (uint64_t at : {uint64_t{0}, uint64_t{0x1000}, ~uint64_t{0}})
            (void)table.function_at(at);  // whatever it says, it must not crash
    }
    // Every byte of the synthetic file replaced in turn by a few values: no crash, and an answer is
    // either nothing or one of the file's own names.
    const std::vector<char> elf = synthetic_elf(SHT_SYMTAB);
    const std::string path = dir.write("mutated", elf);
    const int fd = open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    std::vector<char> bad = elf;
    size_t answered = 0;
    for (size_t i = 0; i < elf.size(); ++i) {
        for (unsigned char v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
            bad[i] = static_cast<char>(v);
            ASSERT_EQ(pwrite(fd, &bad[i], 1, static_cast<off_t>(i)), 1);
            SymbolTable table = SymbolTable::read(path);
            for (uint64_t at : {uint64_t{0x1000}, uint64_t{0x1048}, uint64_t{0x2010}}) {
                // Whatever a mutated table answers is text of the file itself, ending at a NUL in it.
                std::string name = table.function_at(at) + '\0';
                EXPECT_TRUE(name.size() == 1 ||
                            std::search(bad.begin(), bad.end(), name.begin(), name.end()) != bad.end())
                    << "byte " << i << " = " << int(v) << ": " << name;
                answered += name.size() > 1;
            }
        }
        bad[i] = elf[i];
        ASSERT_EQ(pwrite(fd, &elf[i], 1, static_cast<off_t>(i)), 1);
    }
    close(fd);
    EXPECT_GT(answered, 0u);
}

}  // namespace
