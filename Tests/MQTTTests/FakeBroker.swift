import NIOPosix
import Synchronization

@testable import MQTT

/// A scripted MQTT "broker" on loopback for misbehaviour Mosquitto won't produce: it decodes what
/// the client sends, records it, and answers with whatever bytes `script` returns.
final class FakeBroker: Sendable {
    typealias Script = @Sendable (_ packet: MQTTPacket, _ connection: Int) -> [[UInt8]]

    let channel: any Channel
    private let state = Mutex<(received: [(Int, MQTTPacket)], connections: Int)>(([], 0))
    private let outlets = Mutex<[Int: any Channel]>([:])

    var port: Int { channel.localAddress!.port! }
    var connections: Int { state.withLock { $0.connections } }
    var received: [MQTTPacket] { state.withLock { $0.received.map(\.1) } }

    init(script: @escaping Script) async throws {
        let box = Mutex<FakeBroker?>(nil)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    guard let broker = box.withLock({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                    let number = broker.state.withLock { state in
                        state.connections += 1
                        return state.connections
                    }
                    broker.outlets.withLock { $0[number] = child }
                    try child.pipeline.syncOperations.addHandler(
                        FakeBrokerHandler(broker: broker, number: number, script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        box.withLock { $0 = self }
    }

    func record(_ packet: MQTTPacket, connection: Int) {
        state.withLock { $0.received.append((connection, packet)) }
    }

    /// Sends `packets` on connection `number` (1-based).
    func send(_ packets: [MQTTPacket], on number: Int) async throws {
        guard let child = outlets.withLock({ $0[number] }) else { return }
        var buffer = ByteBuffer()
        for packet in packets { try packet.write(into: &buffer) }
        try await child.writeAndFlush(buffer)
    }

    func close() async {
        for child in outlets.withLock({ Array($0.values) }) { try? await child.close() }
        try? await channel.close()
    }
}

private final class FakeBrokerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let broker: FakeBroker
    let number: Int
    let script: FakeBroker.Script
    var pending = ByteBuffer()
    var decoder = MQTTPacketDecoder()

    init(broker: FakeBroker, number: Int, script: @escaping FakeBroker.Script) {
        self.broker = broker
        self.number = number
        self.script = script
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        pending.writeBuffer(&bytes)
        do {
            while let packet = try decoder.decode(&pending) {
                broker.record(packet, connection: number)
                for reply in script(packet, number) {
                    context.write(wrapOutboundOut(ByteBuffer(bytes: reply)), promise: nil)
                }
            }
            context.flush()
        } catch {
            context.close(promise: nil)
        }
    }
}

/// The bytes of `packet`, for scripts.
func wire(_ packet: MQTTPacket) -> [UInt8] {
    Array((try? packet.encoded())?.readableBytesView ?? ByteBuffer().readableBytesView)
}

let connackAccepted = wire(.connack(MQTTConnAck(sessionPresent: false, returnCode: .accepted)))
