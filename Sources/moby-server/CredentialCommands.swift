import ArgumentParser
import Foundation
import MobyCore
import MobyServer

/// `moby-server users …` and `moby-server tokens …`: manage the credentials of the HTTP API
/// without the console, on the data folder of a running or stopped server (SQLite in WAL mode;
/// a running server sees the change at its next request). Scripts depend on these shapes.
struct CredentialCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moby-server",
        abstract: "Manage moby-server's users and API tokens.",
        subcommands: [Users.self, Tokens.self])

    /// The data folder, as the server finds it.
    struct DataFolder: ParsableArguments {
        @Option(help: "The server's data folder (env MOBY_DATA_DIR)")
        var dataDir: String = ProcessInfo.processInfo.environment["MOBY_DATA_DIR"] ?? "./var/data"

        func store() throws -> CredentialStore {
            do {
                return try CredentialStore(dataDirectory: dataDir)
            } catch {
                throw CommandFailure("cannot open the server's database in \(dataDir): \(error)")
            }
        }
    }

    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "User accounts of the operator console (viewer, operator, admin).",
            subcommands: [Add.self, List.self, Remove.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a user (or, with --update, change an existing user's role and password).")
            @Argument(help: "The user's name (letters, digits, . - _ @)") var name: String
            @Option(help: "viewer, operator or admin") var role: Role
            @Flag(help: "Read the password from the first line of standard input (required)")
            var passwordStdin = false
            @Flag(help: "Replace the role and password of an existing user (ends their sessions)")
            var update = false
            @OptionGroup var folder: DataFolder

            func run() async throws {
                guard passwordStdin else {
                    throw ValidationError(
                        "give the password on standard input with --password-stdin (never on the command line)")
                }
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw ValidationError("no password on standard input")
                }
                do {
                    let added = try await folder.store().addUser(
                        name: name, role: role, password: line, replace: update)
                    printError("\(added ? "added" : "updated") user \(name) (\(role.rawValue))")
                } catch let error as CredentialError {
                    throw CommandFailure(error.description)
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the users.")
            @OptionGroup var folder: DataFolder

            func run() async throws {
                let users = try await folder.store().users()
                printTable(
                    ["NAME", "ROLE", "CREATED"],
                    users.map { [$0.name, $0.role.rawValue, RFC3339.format($0.createdAt)] })
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a user and end their sessions.")
            @Argument var name: String
            @OptionGroup var folder: DataFolder

            func run() async throws {
                guard try await folder.store().removeUser(name) else {
                    throw CommandFailure("no user named '\(name)'")
                }
                printError("removed user \(name)")
            }
        }
    }

    struct Tokens: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "API tokens (Authorization: Bearer …) for scripts, Prometheus and devices.",
            subcommands: [Create.self, List.self, Revoke.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a token and print it alone on standard output (it is shown only once).")
            @Option(help: "viewer, operator, admin or device") var role: Role
            @Option(help: "The device a device token publishes for") var device: String?
            @Option(help: "A name for the token (shown as the actor of its actions)") var name: String?
            @OptionGroup var folder: DataFolder

            func run() async throws {
                do {
                    let (record, secret) = try await folder.store().createToken(role: role, device: device, name: name)
                    print(secret)
                    printError(
                        "created token \(record.id) '\(record.name)' (\(record.role.rawValue)\(record.device.map { ", device \($0)" } ?? "")); it is shown only once"
                    )
                } catch let error as CredentialError {
                    throw CommandFailure(error.description)
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the tokens (never their secrets).")
            @OptionGroup var folder: DataFolder

            func run() async throws {
                let tokens = try await folder.store().tokens()
                printTable(
                    ["ID", "NAME", "ROLE", "DEVICE", "CREATED", "LAST USED"],
                    tokens.map {
                        [
                            $0.id, $0.name, $0.role.rawValue, $0.device ?? "-", RFC3339.format($0.createdAt),
                            $0.lastUsedAt.map(RFC3339.format) ?? "never",
                        ]
                    })
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")
            @Argument var id: String
            @OptionGroup var folder: DataFolder

            func run() async throws {
                guard try await folder.store().revokeToken(id) else {
                    throw CommandFailure("no token with id '\(id)' (see moby-server tokens list)")
                }
                printError("revoked token \(id)")
            }
        }
    }
}

extension Role: ExpressibleByArgument {}

/// A command that could not do its work (exit status 1, the message alone, no usage text).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

private func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

private func printTable(_ header: [String], _ rows: [[String]]) {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    for row in all {
        print(
            row.enumerated().map { column, text in
                column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
    }
}
