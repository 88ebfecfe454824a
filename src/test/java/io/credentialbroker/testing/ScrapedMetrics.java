package io.credentialbroker.testing;

import static io.credentialbroker.testing.ManagementInterface.management;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The broker's Prometheus text from {@code /q/metrics}, and the values of its series. */
public final class ScrapedMetrics {

    private ScrapedMetrics() {
    }

    public static String scrape() {
        return management().accept("text/plain").get("/q/metrics").then().statusCode(200).extract().asString();
    }

    /**
     * The sum of the series of {@code name} whose labels contain all of {@code labels} (each written
     * {@code key="value"}); 0 if none. A series without labels matches when no label is asked for.
     */
    public static double value(String metrics, String name, String... labels) {
        Matcher line = Pattern.compile("^" + name + "(?:\\{([^}]*)\\})? (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        double sum = 0;
        while (line.find()) {
            boolean all = true;
            for (String label : labels) {
                all &= line.group(1) != null && line.group(1).contains(label);
            }
            if (all) {
                sum += Double.parseDouble(line.group(2));
            }
        }
        return sum;
    }
}
