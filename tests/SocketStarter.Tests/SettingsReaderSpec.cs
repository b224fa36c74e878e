using Microsoft.Extensions.Configuration;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Tests;

public sealed class SettingsReaderSpec
{
    private static SettingsReader With(string name, string value) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [name] = value }).Build());

    [Fact]
    public void An_unset_variable_takes_its_default_and_a_good_one_its_value()
    {
        Assert.Equal(64, With("OTHER", "1").Int("MAX", 64, 1, 100));
        Assert.Equal(7, With("MAX", "7").Int("MAX", 64, 1, 100));
        Assert.Equal(TimeSpan.FromSeconds(1.5), With("T", "1.5").Seconds("T", 30, 1, 60));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("1.5")]
    public void A_bad_whole_number_names_the_variable_its_range_and_the_value(string value)
    {
        var error = Assert.Throws<SettingException>(() => With("MAX", value).Int("MAX", 64, 1, 100));
        Assert.Equal($"MAX must be a whole number from 1 to 100, got '{value}'.", error.Message);
    }
}
