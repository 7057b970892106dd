import Testing

@testable import MobyTestSupport

/// The one-line-per-thread summary a stalled test prints (its full gdb dump stays on disk).
@Suite struct ThreadDumpSummaryTests {
    @Test func eachThreadGetsItsNameAndInnermostFunctions() {
        let dump = """
            [New LWP 15249]
            Thread 2 (Thread 0x7fe086ffd6c0 (LWP 15249) "-qos.overcommit"):
            #0  __futex_abstimed_wait_common64 (private=<optimized out>, cancel=true) at futex-internal.c:57
            #1  0x00007fe0a1a83f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=0x1) at futex.c:139
            #2  0x00007fe0a30c0788 in _dispatch_sigsuspend () from /opt/swift/usr/lib/swift/linux/libdispatch.so

            Thread 1 (Thread 0x7fe0a304a4c0 (LWP 15237) "mobyPackageTest"):
            #0  0x00007fe0a1a3a301 in __GI___sigsuspend (set=0x7fe0a30ca078) at sigsuspend.c:26
            """
        #expect(
            ThreadDump.summary(of: dump, frames: 2) == """
                -qos.overcommit: __futex_abstimed_wait_common64 < __GI___futex_abstimed_wait_cancelable64
                mobyPackageTest: __GI___sigsuspend
                """)
    }
}
