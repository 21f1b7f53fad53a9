import Commands
import Foundation

// The executable is only this: pick the real streams and hand the arguments to the library.
let environment = ProcessInfo.processInfo.environment
let console = Console.standard(environment: environment)
let running = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
let code = CLI.run(Array(CommandLine.arguments.dropFirst()), console: console, environment: environment,
                   executablePath: CLI.invokedPath(CommandLine.arguments[0], running: running, environment: environment))
exit(code)
