/*
 * Renders API Gateway mapping templates the way API Gateway does: Apache Velocity 1.7 on the JVM, with
 * commons-lang 2.6 StringEscapeUtils.escapeJavaScript behind $util.escapeJavaScript and Java strings
 * for every string method a template calls. Used by tests/emulator/vtl-conformance.test.ts, which runs
 * it in source-launch mode (`java -cp <jars> Harness.java cases.json`) and compares its output with the
 * local gateway's velocityjs rendering.
 *
 * Input: one JSON case { template, body, context } per line (a fresh parser per case: Debian's
 * json-smart 2.2 counts nesting depth across a whole document). Output (stdout): a JSON array of
 * { output, status, headers } or { error }, in the same order.
 */
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.minidev.json.JSONObject;
import net.minidev.json.JSONValue;
import net.minidev.json.parser.JSONParser;
import org.apache.commons.lang.StringEscapeUtils;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;

public class Harness {
  static Object parseStrict(String text) throws Exception {
    return new JSONParser(JSONParser.MODE_RFC4627).parse(text);
  }

  /** `$util`: the helpers the templates call. */
  public static class Util {
    public String escapeJavaScript(String value) {
      return StringEscapeUtils.escapeJavaScript(value);
    }

    public Object parseJson(String value) throws Exception {
      return parseStrict(value);
    }
  }

  /** `$input` over a body: `$.a.b` paths, as the templates use them. */
  public static class Input {
    private final String body;
    private Object document;
    private boolean parsed;

    Input(String body) {
      this.body = body;
    }

    private Object root() throws Exception {
      if (!parsed) {
        document = body.trim().isEmpty() ? new JSONObject() : parseStrict(body);
        parsed = true;
      }
      return document;
    }

    public String getBody() {
      return body;
    }

    public Object path(String path) throws Exception {
      if (!path.startsWith("$")) throw new IllegalArgumentException("not a JSONPath: " + path);
      Object current = root();
      for (String key : path.substring(1).split("\\.")) {
        if (key.isEmpty()) continue;
        current = current instanceof Map ? ((Map<?, ?>) current).get(key) : null;
      }
      return current;
    }

    public String json(String path) throws Exception {
      return JSONValue.toJSONString(path(path));
    }
  }

  public static void main(String[] args) throws Exception {
    VelocityEngine engine = new VelocityEngine();
    engine.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
    engine.init();
    List<Object> results = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8)) {
      if (line.isBlank()) continue;
      JSONObject job = (JSONObject) parseStrict(line);
      Map<String, Object> result = new HashMap<>();
      try {
        JSONObject context = (JSONObject) job.get("context");
        JSONObject override = new JSONObject();
        override.put("header", new JSONObject());
        context.put("responseOverride", override);
        VelocityContext velocity = new VelocityContext();
        velocity.put("context", context);
        velocity.put("input", new Input((String) job.get("body")));
        velocity.put("util", new Util());
        StringWriter out = new StringWriter();
        engine.evaluate(velocity, out, "template", (String) job.get("template"));
        result.put("output", out.toString());
        Object status = override.get("status");
        result.put("status", status == null ? null : Integer.valueOf(status.toString()));
        Map<String, String> headers = new HashMap<>();
        for (Map.Entry<String, Object> header : ((JSONObject) override.get("header")).entrySet()) headers.put(header.getKey(), String.valueOf(header.getValue()));
        result.put("headers", headers);
      } catch (Exception error) {
        result.put("error", error.getClass().getSimpleName());
      }
      results.add(result);
    }
    System.out.print(JSONValue.toJSONString(results));
  }
}
