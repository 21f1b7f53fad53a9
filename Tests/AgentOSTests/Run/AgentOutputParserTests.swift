import Foundation
import Testing
@testable import AgentOS

/// Parsers against output shaped exactly like the real tools' (see the fixture agents for the same).
@Suite struct AgentOutputParserTests {
    @Test func claudeSuccess() {
        let line = #"{"type":"result","subtype":"success","is_error":false,"duration_ms":2710,"duration_api_ms":2654,"num_turns":1,"result":"Paris.\nIt is the capital.","stop_reason":"end_turn","session_id":"3f1c2a4e-8b7d-4c21-9e0a-5d6f7a8b9c10","total_cost_usd":0.0123405,"usage":{"input_tokens":4,"cache_creation_input_tokens":5123,"cache_read_input_tokens":12000,"output_tokens":42,"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0},"service_tier":"standard"},"modelUsage":{"claude-sonnet-4-5-20250929":{"inputTokens":4,"outputTokens":42,"costUSD":0.0123405}},"permission_denials":[],"uuid":"9a8b"}"#
        let o = AgentOutputParser.parseClaude(line + "\n")
        #expect(o == Self.final(AgentOutcome(answer: "Paris.\nIt is the capital.", costUSD: 0.0123405, tokensIn: 17127, tokensOut: 42,
                                             model: "claude-sonnet-4-5-20250929", sessionID: "3f1c2a4e-8b7d-4c21-9e0a-5d6f7a8b9c10")))
    }

    @Test func claudeIsErrorWinsOverSubtypeSuccess() {
        let line = #"{"type":"result","subtype":"success","is_error":true,"duration_ms":1520,"num_turns":1,"result":"API Error: 529 Overloaded. This is a server-side issue, usually temporary - try again in a moment.","session_id":"s","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0}}"#
        let o = AgentOutputParser.parseClaude(line)
        #expect(o.isError)
        #expect(o.errorMessage == "API Error: 529 Overloaded. This is a server-side issue, usually temporary - try again in a moment.")
    }

    @Test func claudeErrorsArrayAndOlderCostField() {
        let o = AgentOutputParser.parseClaude(#"{"type":"result","subtype":"error_max_turns","is_error":false,"cost_usd":0.5,"errors":["Reached maximum number of turns (3)"]}"#)
        #expect(o.isError && o.errorMessage == "Reached maximum number of turns (3)" && o.costUSD == 0.5)
        let none = AgentOutputParser.parseClaude("Invalid API key · Please run /login\n")
        #expect(none.isError && none.errorMessage == "claude printed no result object: Invalid API key · Please run /login")
    }

    static let codexSuccess = """
    {"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}
    {"type":"turn.started"}
    {"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"**Scanning**"}}
    {"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"Looking."}}
    {"type":"item.completed","item":{"id":"item_2","type":"command_execution","command":"bash -lc ls","aggregated_output":"docs\\n","exit_code":0,"status":"completed"}}
    {"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"Final answer."}}
    {"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":122}}

    """

    @Test func codexSuccessTakesTheLastMessageAndUsage() {
        let o = AgentOutputParser.parseCodex(AgentOutputParserTests.codexSuccess)
        #expect(o == Self.final(AgentOutcome(answer: "Final answer.", tokensIn: 24763, tokensOut: 122, sessionID: "0199a213-81c0-7800-8aa1-bbab2a035a53")))
    }

    /// `outcome`, said to be the whole of its run's output.
    static func final(_ outcome: AgentOutcome) -> AgentOutcome {
        var outcome = outcome
        outcome.isFinal = true
        return outcome
    }

    /// Whether a tool printed its run's end, which a run stopped after it may be finished from
    /// (round 154): only the end event says so, never the output before it.
    @Test func onlyTheEventThatEndsARunMakesItsOutputWhole() {
        let claude = #"{"type":"result","subtype":"success","is_error":false,"result":"Done.","total_cost_usd":4}"#
        #expect(AgentOutputParser.parseClaude(claude).isFinal)
        #expect(!AgentOutputParser.parseClaude(#"{"type":"system","subtype":"init","session_id":"s"}"#).isFinal)
        #expect(AgentOutputParser.parseCodex(Self.codexSuccess).isFinal)
        let codexCut = Self.codexSuccess.components(separatedBy: "\n").filter { !$0.contains("turn.completed") }.joined(separator: "\n")
        #expect(!AgentOutputParser.parseCodex(codexCut).isFinal)
        let step = #"{"type":"step_finish","part":{"type":"step-finish","reason":"REASON","cost":0.5}}"#
        let text = #"{"type":"text","part":{"type":"text","text":"OK"}}"#
        #expect(!AgentOutputParser.parseOpencode(text + "\n" + step.replacingOccurrences(of: "REASON", with: "tool-calls")).isFinal)
        #expect(AgentOutputParser.parseOpencode(text + "\n" + step.replacingOccurrences(of: "REASON", with: "stop")).isFinal)
        // A step after the last `stop` (the run went on) is not the end.
        #expect(!AgentOutputParser.parseOpencode([step.replacingOccurrences(of: "REASON", with: "stop"), text, step.replacingOccurrences(of: "REASON", with: "tool-calls")].joined(separator: "\n")).isFinal)
        #expect(!AgentOutputParser.parse(.text, output: Array("an answer\n".utf8)).isFinal)
        // A sub-agent's session ending is not the run's end.
        let mainStep = #"{"type":"step_finish","sessionID":"ses_main","part":{"type":"step-finish","reason":"tool-calls","cost":0.1}}"#
        let subStop = #"{"type":"step_finish","sessionID":"ses_sub","part":{"type":"step-finish","reason":"stop","cost":0.2}}"#
        #expect(!AgentOutputParser.parseOpencode(mainStep + "\n" + subStop).isFinal)
        #expect(AgentOutputParser.parseOpencode(mainStep + "\n" + subStop + "\n" + mainStep.replacingOccurrences(of: "tool-calls", with: "stop")).isFinal)
    }

    @Test func codexTurnFailedAndUnrecoveredErrorsFail() {
        let failed = AgentOutputParser.parseCodex("""
        {"type":"thread.started","thread_id":"t"}
        {"type":"turn.started"}
        {"type":"error","message":"unexpected status 401 Unauthorized"}
        {"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized"}}
        """)
        #expect(failed.isError && failed.errorMessage == "unexpected status 401 Unauthorized")
        let reconnected = AgentOutputParser.parseCodex("{\"type\":\"error\",\"message\":\"Reconnecting... 1/5\"}\n" + AgentOutputParserTests.codexSuccess)
        #expect(!reconnected.isError && reconnected.answer == "Final answer.")
        let cut = AgentOutputParser.parseCodex("{\"type\":\"thread.started\",\"thread_id\":\"t\"}\n{\"type\":\"turn.started\"}\n")
        #expect(cut.isError && cut.errorMessage == "codex ended without completing its turn")
    }

    @Test func opencodeSumsStepsAndJoinsText() {
        let o = AgentOutputParser.parseOpencode("""
        {"type":"step_start","timestamp":1790166723209,"sessionID":"ses_abc","part":{"id":"prt_1","sessionID":"ses_abc","messageID":"msg_1","type":"step-start"}}
        {"type":"text","timestamp":1790166723895,"sessionID":"ses_abc","part":{"id":"prt_2","sessionID":"ses_abc","messageID":"msg_1","type":"text","text":"OK","time":{"start":1790166723889,"end":1790166723895}}}
        {"type":"step_finish","timestamp":1790166723905,"sessionID":"ses_abc","part":{"id":"prt_3","sessionID":"ses_abc","messageID":"msg_1","type":"step-finish","reason":"stop","cost":0.25,"tokens":{"input":7752,"output":11,"reasoning":46,"cache":{"read":100,"write":2}}}}
        {"type":"step_finish","timestamp":1790166723906,"sessionID":"ses_abc","part":{"type":"step-finish","cost":0.5,"tokens":{"input":10,"output":1,"reasoning":0,"cache":{"read":0,"write":0}}}}
        """)
        #expect(o == AgentOutcome(answer: "OK", costUSD: 0.75, tokensIn: 7864, tokensOut: 58, sessionID: "ses_abc"))
    }

    /// Round 54 (attack105 I1): one negative step was summed, so an agent shaved its reported cost
    /// (0.0011 and -0.0010 settled as $0.0001). A negative or non-finite step makes the figure none
    /// printed, and the run is charged its reservation.
    @Test func aNegativeOpencodeStepMakesTheCostNonePrinted() {
        for bad in ["-0.0010", "-0.5", "1e999"] {
            let o = AgentOutputParser.parseOpencode("""
            {"type":"text","sessionID":"s","part":{"type":"text","text":"OK"}}
            {"type":"step_finish","sessionID":"s","part":{"type":"step-finish","cost":0.0011}}
            {"type":"step_finish","sessionID":"s","part":{"type":"step-finish","cost":\(bad)}}
            """)
            #expect(o.answer == "OK" && o.costUSD == nil, "\(bad) → \(String(describing: o.costUSD))")
        }
    }

    @Test func opencodeErrorEventFails() {
        let o = AgentOutputParser.parseOpencode(#"{"type":"error","timestamp":1,"sessionID":"ses_x","error":{"name":"ProviderAuthError","data":{"providerID":"anthropic","message":"API key is missing"}}}"#)
        #expect(o.isError && o.errorMessage == "API key is missing")
        #expect(AgentOutputParser.parseOpencode("").errorMessage == "opencode printed no events")
    }

    @Test func ollamaAnswerAndError() {
        let o = AgentOutputParser.parseOllama(#"{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","response":"The sky is blue.","done":true,"done_reason":"stop","context":[1,2],"total_duration":5043500667,"load_duration":5025959,"prompt_eval_count":26,"prompt_eval_duration":325953000,"eval_count":290,"eval_duration":4709213000}"#)
        #expect(o == AgentOutcome(answer: "The sky is blue.", costUSD: 0, tokensIn: 26, tokensOut: 290, model: "llama3.2"))
        let e = AgentOutputParser.parseOllama(#"{"error":"model \"nope\" not found, try pulling it first"}"#)
        #expect(e.isError && e.errorMessage == "ollama: model \"nope\" not found, try pulling it first")
    }

    @Test func textIsTheAnswer() {
        #expect(AgentOutputParser.parse(.text, output: Array("line one\nline two\n\n".utf8)) == AgentOutcome(answer: "line one\nline two"))
    }
}
